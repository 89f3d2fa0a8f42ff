package kafka

// Internals for the tests of package kafka_test.
var (
	EncodeStateKey = encodeStateKey
	DecodeStateKey = decodeStateKey
	StatePartition = statePartition
)
