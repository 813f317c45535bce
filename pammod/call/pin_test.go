package call

import (
	"strings"
	"testing"
)

func TestNewPIN(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	const draws = 4500 // 36,000 characters: about 1,000 of each
	for i := 0; i < draws; i++ {
		p, err := newPIN()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != pinLength || strings.Trim(p, pinAlphabet) != "" {
			t.Fatalf("PIN %q", p)
		}
		if seen[p] {
			t.Fatalf("PIN %q drawn twice", p)
		}
		seen[p] = true
		for _, r := range p {
			counts[r]++
		}
	}
	// every character is drawn, none far more often than the others
	// (a modulo bias would give the first 4 characters 1/64 more)
	for _, r := range pinAlphabet {
		if n := counts[r]; n < 800 || n > 1200 {
			t.Errorf("%c drawn %d times of %d", r, n, draws*pinLength)
		}
	}
}

func TestPINMatches(t *testing.T) {
	for _, tc := range []struct {
		typed string
		want  bool
	}{
		{"7KQ2M9XA", true},
		{"7kq2m9xa", true},
		{"  7KQ2M9XA\n", true},
		{"7KQ2M9X", false},
		{"7KQ2M9XAB", false},
		{"7KQ2M9XB", false},
		{"", false},
		{"7KQ 2M9XA", false},
	} {
		if got := pinMatches(tc.typed, "7KQ2M9XA"); got != tc.want {
			t.Errorf("pinMatches(%q) = %v", tc.typed, got)
		}
	}
}
