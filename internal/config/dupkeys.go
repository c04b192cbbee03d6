package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// duplicateKey is an object key given more than once in a JSON document.
// encoding/json (like Python's json) silently keeps the last value, so
// "minimum": 5, …, "minimum": 0 would read as 0: the parser reports every
// duplicate instead.
type duplicateKey struct {
	path string
	// values holds each occurrence's value, compacted, in document order.
	values []json.RawMessage
}

// same reports whether every occurrence has the same value.
func (d duplicateKey) same() bool {
	for _, v := range d.values[1:] {
		if !bytes.Equal(v, d.values[0]) {
			return false
		}
	}
	return true
}

// duplicateKeys walks data, which must be valid JSON, token by token and
// returns its duplicate keys at every depth, each object's in key order.
// Paths are those of Problem.Path; keys of match are bracketed.
func duplicateKeys(data []byte) []duplicateKey {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []duplicateKey
	if err := walkJSON(dec, data, "", &out); err != nil {
		return nil // invalid JSON is reported by the caller's Unmarshal
	}
	return out
}

func walkJSON(dec *json.Decoder, data []byte, at string, out *[]duplicateKey) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkJSON(dec, data, fmt.Sprintf("%s[%d]", at, i), out); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('{'):
		seen := map[string][]json.RawMessage{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key, _ := tok.(string)
			start := dec.InputOffset()
			if err := walkJSON(dec, data, keyPath(at, key), out); err != nil {
				return err
			}
			// Between the key and the value's end lie the colon and
			// white space, which compact drops.
			raw := bytes.TrimLeft(data[start:dec.InputOffset()], " \t\r\n:")
			seen[key] = append(seen[key], compact(raw))
		}
		for _, key := range slices.Sorted(maps.Keys(seen)) {
			if len(seen[key]) > 1 {
				*out = append(*out, duplicateKey{path: keyPath(at, key), values: seen[key]})
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

// keyPath is path, with the keys of match, exclude, exclude_volumes and
// adopt (EC2 filter names such as "tag:env") always bracketed.
func keyPath(at, key string) string {
	if slices.Contains(filterKeys, at) {
		return filterPath(at, key)
	}
	return path(at, key)
}
