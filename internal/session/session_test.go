package session

import "testing"

func TestLive(t *testing.T) {
	for _, tt := range []struct {
		class, state string
		want         bool
	}{
		{"user", "active", true}, {"user", "online", true}, {"user-early", "active", true},
		{"user", "closing", false}, {"greeter", "active", false}, {"lock-screen", "active", false},
		{"background", "active", false}, {"", "", false},
	} {
		if got := (Session{Class: tt.class, State: tt.state}).Live(); got != tt.want {
			t.Errorf("class %q state %q: Live = %v", tt.class, tt.state, got)
		}
	}
}
