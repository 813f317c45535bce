package checkconfig

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/pam-accesscontrol/pam-accesscontrol/rules"
)

// checkMailFiles reads the original's mail files beside the main config:
// their skipped lines, a file that is not trusted (its mails are not sent,
// its PINs not mailed), and recipients with no relay to mail them through.
func checkMailFiles(cfg *rules.Config) (files []string, out []rules.Problem) {
	if len(cfg.Files) == 0 {
		return nil, nil
	}
	for _, name := range []string{rules.MailNotificationFile, rules.LoginMailMappingFile} {
		path := filepath.Join(filepath.Dir(cfg.Files[0]), name)
		m, err := rules.LoadMailMap(cfg.Files[0], name, false)
		switch {
		case errors.Is(err, rules.ErrNoMailMap):
			continue
		case err != nil:
			out = append(out, rules.Problem{Pos: rules.Pos{File: path}, Severity: rules.Warning,
				Message: fmt.Sprintf("not used: %v", err)})
			continue
		}
		files = append(files, path)
		out = append(out, m.Problems...)
		if !m.Empty() && cfg.Settings.MailServer == "" && m.Server == "" {
			out = append(out, rules.Problem{Pos: rules.Pos{File: path}, Severity: rules.Warning,
				Message: "names mail addresses, but no MAILSERVER is set to send through: no mail goes out"})
		}
	}
	return files, out
}
