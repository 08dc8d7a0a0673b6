package convert

import (
	"fmt"
	"strconv"
)

// Status and Basis are uint8 enums written by name (a report entry stays
// small); these helpers hold their shared text form. kind names the type
// in messages ("status", "basis").

func enumString[E ~uint8](e E, names []string, kind string) string {
	if int(e) < len(names) {
		return names[e]
	}
	return kind + "(" + strconv.Itoa(int(e)) + ")"
}

func enumMarshal[E ~uint8](e E, names []string, kind string) ([]byte, error) {
	if int(e) >= len(names) {
		return nil, fmt.Errorf("convert: invalid %s %d", kind, uint8(e))
	}
	return []byte(names[e]), nil
}

func enumUnmarshal[E ~uint8](e *E, b []byte, names []string, kind string) error {
	for i, n := range names {
		if n == string(b) {
			*e = E(i)
			return nil
		}
	}
	return fmt.Errorf("convert: unknown %s %q", kind, b)
}
