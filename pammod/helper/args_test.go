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
		{args: nil, want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log", Timeout: 120 * time.Second}},
		{args: []string{"conf=/x.conf", "debug", "rundir=/r", "logdir=/l", "spooldir=/s", "timeout=7", "helper=/h", "socket=none"},
			want: moduleArgs{Conf: "/x.conf", Debug: true, RunDir: "/r", SpoolDir: "/s", LogDir: "/l", Timeout: 7 * time.Second}},
		// the first argument that is no option starts a script and its argv
		{args: []string{"timeout=10", "/etc/security/foo.py", "arg1", "debug", "conf=x"},
			want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log", Timeout: 10 * time.Second,
				Script: "/etc/security/foo.py", ScriptArgs: []string{"/etc/security/foo.py", "arg1", "debug", "conf=x"}}},
		// a script is a path or a name ending in .py or .star (looked up in
		// /lib/security/); after it, anything is the script's argv
		{args: []string{"nologin.py", "allow=alice", "debugg"}, want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log",
			Timeout: 120 * time.Second, Script: "nologin.py", ScriptArgs: []string{"nologin.py", "allow=alice", "debugg"}}},
		{args: []string{"debug", "gate.star"}, want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log", Timeout: 120 * time.Second,
			Debug: true, Script: "gate.star", ScriptArgs: []string{"gate.star"}}},
		{args: []string{"scripts/gate"}, want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log", Timeout: 120 * time.Second,
			Script: "scripts/gate", ScriptArgs: []string{"scripts/gate"}}},
		// anything else is an unknown option, not a script: the login is denied
		{args: []string{"allow=alice"}, wantErr: "unknown option allow=alice"},
		{args: []string{"conf=/x.conf", "debugg"}, wantErr: "unknown option debugg"},
		{args: []string{"debug=1"}, wantErr: "unknown option debug=1"},
		{args: []string{"helper"}, wantErr: "unknown option helper"},
		{args: []string{"Debug"}, wantErr: "unknown option Debug"},
		{args: []string{""}, wantErr: "unknown option"},
		{args: []string{"nologin.pyc"}, wantErr: "unknown option nologin.pyc"},
		{args: []string{"recursion", "/s.py"}, want: moduleArgs{RunDir: DefaultRunDir, SpoolDir: DefaultSpoolDir, LogDir: "/var/log", Timeout: 120 * time.Second,
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
