package main

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    moduleArgs
		wantErr string
	}{
		{args: nil, want: moduleArgs{RunDir: DefaultRunDir, LogDir: "/var/log", Timeout: 120 * time.Second}},
		{args: []string{"conf=/x.conf", "debug", "rundir=/r", "logdir=/l", "timeout=7", "helper=/h", "socket=none"},
			want: moduleArgs{Conf: "/x.conf", Debug: true, RunDir: "/r", LogDir: "/l", Timeout: 7 * time.Second}},
		// the first argument that is no option starts a script and its argv
		{args: []string{"timeout=10", "/etc/security/foo.py", "arg1", "debug", "conf=x"},
			want: moduleArgs{RunDir: DefaultRunDir, LogDir: "/var/log", Timeout: 10 * time.Second,
				Script: "/etc/security/foo.py", ScriptArgs: []string{"/etc/security/foo.py", "arg1", "debug", "conf=x"}}},
		{args: []string{"allow=alice"}, want: moduleArgs{RunDir: DefaultRunDir, LogDir: "/var/log", Timeout: 120 * time.Second,
			Script: "allow=alice", ScriptArgs: []string{"allow=alice"}}},
		{args: []string{"recursion", "/s.py"}, want: moduleArgs{RunDir: DefaultRunDir, LogDir: "/var/log", Timeout: 120 * time.Second,
			Recursion: true, Script: "/s.py", ScriptArgs: []string{"/s.py"}}},
		{args: []string{"conf="}, wantErr: "has no value"},
		{args: []string{"timeout=soon"}, wantErr: "not a number"},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q:\n got %+v, %v\nwant %+v", tt.args, got, err, tt.want)
		}
	}
}
