package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// pythonJSON re-encodes a JSON document as the original ebs_snapper's
// configure -g printed it: Python's json.dumps with its defaults, that is
// ", " between items and ": " after keys on one line, every character
// outside printable ASCII escaped as \uXXXX (lower-case hex, surrogate
// pairs above U+FFFF), integers in their plain decimal form and other
// numbers as Python's float repr. Keys keep the stored order (Python 2's
// dict order was arbitrary); a key given twice is printed once, at its
// first place with its last value, as a Python dict holds it.
func pythonJSON(data []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b strings.Builder
	if err := pyValue(dec, &b); err != nil {
		return "", err
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", errors.New("trailing data after the JSON value")
	}
	return b.String(), nil
}

// pyValue reads one value from dec and writes it to b.
func pyValue(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		if v == '[' {
			return pyArray(dec, b)
		}
		return pyObject(dec, b)
	case string:
		pyString(b, v)
	case json.Number:
		s, err := pyNumber(v)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case nil:
		b.WriteString("null")
	}
	return nil
}

func pyArray(dec *json.Decoder, b *strings.Builder) error {
	b.WriteByte('[')
	for k := 0; dec.More(); k++ {
		if k > 0 {
			b.WriteString(", ")
		}
		if err := pyValue(dec, b); err != nil {
			return err
		}
	}
	_, err := dec.Token() // ]
	b.WriteByte(']')
	return err
}

func pyObject(dec *json.Decoder, b *strings.Builder) error {
	var keys []string
	values := map[string]string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string)
		var v strings.Builder
		if err := pyValue(dec, &v); err != nil {
			return err
		}
		if _, seen := values[key]; !seen {
			keys = append(keys, key)
		}
		values[key] = v.String()
	}
	if _, err := dec.Token(); err != nil { // }
		return err
	}
	b.WriteByte('{')
	for k, key := range keys {
		if k > 0 {
			b.WriteString(", ")
		}
		pyString(b, key)
		b.WriteString(": ")
		b.WriteString(values[key])
	}
	b.WriteByte('}')
	return nil
}

// pyString writes s as json.dumps(ensure_ascii=True) does.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			b.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			if r == utf8.RuneError {
				r = 0xFFFD
			}
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// pyNumber prints a JSON number as Python prints what json.loads made of
// it: an integer (no fraction or exponent) in plain decimal, anything else
// as the float's repr (1.0, 100000.0, 1e+16, 1e-05, Infinity).
func pyNumber(n json.Number) (string, error) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		i, ok := new(big.Int).SetString(s, 10)
		if !ok {
			return "", fmt.Errorf("number %s", s)
		}
		return i.String(), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return "", fmt.Errorf("number %s: %w", s, err)
	}
	switch {
	case math.IsInf(f, 1):
		return "Infinity", nil
	case math.IsInf(f, -1):
		return "-Infinity", nil
	}
	return pyFloatRepr(f), nil
}

// pyFloatRepr is Python's repr of a float: the shortest digits that read
// back the same, in fixed notation for exponents from -4 to 15 (always
// with a fraction) and in scientific notation otherwise, with a signed
// exponent of at least two digits.
func pyFloatRepr(f float64) string {
	e := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
