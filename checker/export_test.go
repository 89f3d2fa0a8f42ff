package checker

// AppendUniqueValue exposes appendUniqueValue to tests.
func AppendUniqueValue(fp string, offset, first int64, part int32, ts int64) []byte {
	return appendUniqueValue(nil, fp, uniqueSeen{offset: offset, first: first, part: part, ts: ts})
}
