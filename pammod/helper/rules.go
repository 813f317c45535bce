package main

import (
	"context"
	"os"

	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logging"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/logind"
	"github.com/pam-accesscontrol/pam-accesscontrol/internal/nss"
	"github.com/pam-accesscontrol/pam-accesscontrol/notifier/dbusapi"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/call"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/loginstate"
	"github.com/pam-accesscontrol/pam-accesscontrol/pammod/protocol"
	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// runRules is rule mode (no script on the module line): pammod/call with
// the real things behind its interfaces.
func runRules(conn *protocol.Conn, req protocol.Call, args moduleArgs, peerPID int32, by served, log *logging.Logger) call.Result {
	lc := &logind.Client{Debugf: log.Debug}
	return call.Run(req, call.Args{Conf: args.Conf, RunDir: args.RunDir, Spool: args.SpoolDir, LogDir: args.LogDir, Timeout: args.Timeout,
		TokenLine: args.TokenLine, Tokens: args.Tokens},
		peerPID, call.Deps{
			PAM:      rulePAM{conn},
			Log:      log,
			Groups:   nss.Groups{},
			Users:    nss.Users{},
			Sessions: lc,
			Asker:    desktop{lc},
			PINs:     pinSender(args, log), // none in the lean helper
			Identify: by.ids.Identify,
			Alive:    by.ids.Alive,
			Configs:  by.configs,
			Loaded:   by.loaded,
			Phases:   by.phases,
			Tokens:   by.tokens,
		})
}

// served is what the daemon adds to a call, or the lean helper; zero for
// the full helper run for one.
type served struct {
	configs *rules.Cache          // its configs, parsed again only when changed
	phases  call.Phases           // --phase-log
	ids     loginstate.Identifier // with the boot id read once
	// tokens makes TOKEN's checkers (the daemon keeps them); nil: one per
	// call (call.NewTokenChecker)
	tokens func(rules.OIDCSettings) (call.TokenChecker, error)
	// loaded is the config the lean helper loaded to see that it can run
	// the call (lean.go); nil: the call loads it
	loaded *rules.Config
}

// rulePAM is call.PAM over the module's protocol.
type rulePAM struct{ c *protocol.Conn }

func (p rulePAM) GetUser() (string, error) { return p.c.GetUser(protocol.Opt{}) }

func (p rulePAM) Converse(style int, text string) (string, error) {
	resp, err := p.c.Converse([]protocol.ConvMessage{{Style: int32(style), Text: text}})
	if err != nil {
		return "", err
	}
	return resp[0].Resp.S, nil
}

func (p rulePAM) LoginID() (string, error) { return p.c.LoginID() }

func (p rulePAM) KeepLoginID(id string) error { return p.c.KeepLoginID(id) }

func (p rulePAM) GetItem(item int32) (string, bool, error) {
	v, err := p.c.GetItem(item)
	return v.S, v.Valid, err
}

func (p rulePAM) SetItem(item int32, value string) error {
	return p.c.SetItem(item, protocol.Opt{S: value, Valid: true})
}

func (p rulePAM) GetEnv(name string) (string, bool, error) {
	v, err := p.c.GetEnv(name)
	return v.S, v.Valid, err
}

// desktop is call.Asker: logind finds the desktop owner, their notifier
// answers over the system bus.
type desktop struct{ logind *logind.Client }

func (d desktop) DesktopOwner(ctx context.Context) (logind.Desktop, bool, error) {
	return d.logind.DesktopOwner(ctx)
}

func (desktop) Ask(ctx context.Context, owner logind.Desktop, q dbusapi.Request) (dbusapi.Decision, error) {
	return dbusapi.Ask(ctx, dbusapi.Owner{UID: owner.UID, Session: owner.Path}, q)
}

func (desktop) Inform(ctx context.Context, uid uint32, e dbusapi.Event) error {
	return dbusapi.Inform(ctx, uid, e)
}

// parentPID is the process that started this helper: the module's host.
func parentPID() int32 { return int32(os.Getppid()) }
