package checker

import (
	"fmt"
	"maps"

	"github.com/assay-dev/assay/rules"
)

// RunExamples runs a contract's examples (its self-tests) and returns one
// error per rule that did not do what an example says: pass, or fail (a
// rule that gives error counts as failing). Each example runs on its own,
// with fresh state, as the only event of its input.
func RunExamples(c *rules.Contract) []*rules.Error {
	var errs []*rules.Error
	topic := ""
	if len(c.Topics) > 0 {
		topic = c.Topics[0]
	}
	for _, ex := range c.Examples {
		ch := New([]*rules.Contract{c}, Options{})
		w, p := ch.NewWorker(), ch.NewPartition(topic, 0)
		p.state[0] = p.stateFor(0) // checked whatever the topic
		vs := w.Check(p, &Event{Fields: maps.Clone(ex.Event), Meta: rules.KafkaMeta{Topic: topic}, Line: 1})
		reasons := map[string]string{}
		for _, v := range vs {
			reasons[v.Rule] = v.Reason
		}
		snap := ch.Snapshot().Contracts[0]
		got := map[string]Result{}
		checked := snap.Events > 0
		for _, rs := range snap.Rules {
			for _, res := range Results {
				if rs.Counts[res] > 0 {
					got[rs.Rule.Name] = res
				}
			}
		}
		fail := func(rule, format string, args ...any) {
			errs = append(errs, &rules.Error{Pos: ex.Pos, Contract: c.Name, Rule: rule,
				Msg: fmt.Sprintf("%s: ", ex.Name) + fmt.Sprintf(format, args...)})
		}
		if !checked {
			fail("", "the event is not checked: where is false for it")
			continue
		}
		for _, name := range ex.Pass {
			if res := got[name]; res != Pass {
				fail(name, "should pass, but gave %s%s", res, because(reasons[name]))
			}
		}
		for _, name := range ex.Fail {
			if res := got[name]; res != Fail && res != Error {
				fail(name, "should fail, but gave %s", res)
			}
		}
	}
	return errs
}

func because(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
