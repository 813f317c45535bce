package script

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
)

// fakePAM is the application's handle in memory: items, the user,
// the PAM environment, PAM data, and a conversation that answers prompts
// from a list.
type fakePAM struct {
	items   map[int32]string
	env     map[string]string
	data    map[string]string
	answers []string // the prompts' answers, in order
	said    []string // every conversation message's text
	// refuse makes every request of these kinds fail with this PAM code,
	// as libpam refusing it would
	refuse map[string]int32
}

func newPAM(user string) *fakePAM {
	return &fakePAM{
		items: map[int32]string{protocol.ItemUser: user, protocol.ItemService: "sshd"},
		env:   map[string]string{}, data: map[string]string{},
	}
}

func (p *fakePAM) fail(op string) error {
	if code, ok := p.refuse[op]; ok {
		return &protocol.PAMError{Op: op, Code: code}
	}
	return nil
}

func opt(m map[string]string, k string) protocol.Opt {
	v, ok := m[k]
	return protocol.Opt{S: v, Valid: ok}
}

func (p *fakePAM) GetItem(item int32) (protocol.Opt, error) {
	if err := p.fail("get item"); err != nil {
		return protocol.Opt{}, err
	}
	v, ok := p.items[item]
	return protocol.Opt{S: v, Valid: ok}, nil
}

func (p *fakePAM) SetItem(item int32, v protocol.Opt) error {
	if err := p.fail("set item"); err != nil {
		return err
	}
	if v.Valid {
		p.items[item] = v.S
	} else {
		delete(p.items, item)
	}
	return nil
}

func (p *fakePAM) GetUser(protocol.Opt) (string, error) {
	if err := p.fail("get_user"); err != nil {
		return "", err
	}
	return p.items[protocol.ItemUser], nil
}

func (p *fakePAM) Converse(msgs []protocol.ConvMessage) ([]protocol.ConvResponse, error) {
	if err := p.fail("conversation"); err != nil {
		return nil, err
	}
	out := make([]protocol.ConvResponse, len(msgs))
	for i, m := range msgs {
		p.said = append(p.said, m.Text)
		if m.Style == protocol.PromptEchoOff || m.Style == protocol.PromptEchoOn {
			if len(p.answers) == 0 {
				return nil, fmt.Errorf("nobody answers %q", m.Text)
			}
			out[i].Resp = protocol.Some(p.answers[0])
			p.answers = p.answers[1:]
		}
	}
	return out, nil
}

func (p *fakePAM) GetEnv(name string) (protocol.Opt, error) {
	return opt(p.env, name), p.fail("getenv")
}

func (p *fakePAM) PutEnv(entry string) error {
	if err := p.fail("putenv"); err != nil {
		return err
	}
	k, v, set := strings.Cut(entry, "=")
	if set {
		p.env[k] = v
	} else {
		delete(p.env, k)
	}
	return nil
}

func (p *fakePAM) EnvList() ([]string, error) {
	var l []string
	for k, v := range p.env {
		l = append(l, k+"="+v)
	}
	return l, p.fail("getenvlist")
}

func (p *fakePAM) FailDelay(int32) error { return p.fail("fail_delay") }

func (p *fakePAM) GetData(key string) (protocol.Opt, error) {
	return opt(p.data, key), p.fail("get data")
}

func (p *fakePAM) SetData(key string, v protocol.Opt) error {
	if err := p.fail("set data"); err != nil {
		return err
	}
	if v.Valid {
		p.data[key] = v.S
	} else {
		delete(p.data, key)
	}
	return nil
}

func (p *fakePAM) GetXAuth() (protocol.Opt, protocol.Opt, error) {
	return protocol.Opt{}, protocol.Opt{}, p.fail("get xauth")
}

func (p *fakePAM) SetXAuth(string, string) error { return p.fail("set xauth") }

// fakeLog keeps the lines, each prefixed by its level.
type fakeLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *fakeLog) add(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+": "+fmt.Sprintf(format, args...))
}

func (l *fakeLog) Info(format string, args ...any)  { l.add("info", format, args...) }
func (l *fakeLog) Error(format string, args ...any) { l.add("error", format, args...) }
func (l *fakeLog) Debug(format string, args ...any) { l.add("debug", format, args...) }

// has reports whether a line contains s.
func (l *fakeLog) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}

func (l *fakeLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
