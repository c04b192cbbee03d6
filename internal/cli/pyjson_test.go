package cli

import "testing"

// The wanted outputs are what Python's json.dumps(json.loads(in)) prints
// (Python 2.7 and 3 agree on all of them; Python 2 may order keys
// differently).
func TestPythonJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"stanza", `{"match":{"tag:backup":"yes"},"snapshot":{"retention":"4 days","minimum":5,"frequency":"12 hours"},"ignore":[]}`,
			`{"match": {"tag:backup": "yes"}, "snapshot": {"retention": "4 days", "minimum": 5, "frequency": "12 hours"}, "ignore": []}`},
		{"spacing of the input does not matter", "{ \"a\" :\n [1 ,2,{}] }", `{"a": [1, 2, {}]}`},
		{"literals", `{"a":true,"b":false,"c":null}`, `{"a": true, "b": false, "c": null}`},
		{"escapes", `{"k":"a\"b\\c\/d\n\t\r\b\f\u0001\u007f"}`, `{"k": "a\"b\\c/d\n\t\r\b\f\u0001\u007f"}`},
		{"non-ASCII", `{"Name":"café ☃ 😀"}`, `{"Name": "caf\u00e9 \u2603 \ud83d\ude00"}`},
		{"integers", `[0, -0, 12345678901234567890123]`, `[0, 0, 12345678901234567890123]`},
		{"floats", `[1.0, 1.5, 1e2, 1e16, 1.5e16, 1e-5, 0.0001, 123456789.125, -2.50, 1e400]`,
			`[1.0, 1.5, 100.0, 1e+16, 1.5e+16, 1e-05, 0.0001, 123456789.125, -2.5, Infinity]`},
		{"duplicate key: first place, last value", `{"a":1,"b":2,"a":3}`, `{"a": 3, "b": 2}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pythonJSON([]byte(tc.in))
			if err != nil || got != tc.want {
				t.Errorf("pythonJSON(%s)\n got %s, %v\nwant %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{"a":`, `{"a":1} x`, `{, 123 bare words :: }`} {
		if got, err := pythonJSON([]byte(bad)); err == nil {
			t.Errorf("pythonJSON(%s) = %s, want an error", bad, got)
		}
	}
}
