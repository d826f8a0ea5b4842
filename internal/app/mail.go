package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"

	"github.com/mailtrail/mailtrail/internal/access"
	"github.com/mailtrail/mailtrail/internal/api/cwlogs"
	"github.com/mailtrail/mailtrail/internal/api/sigv4"
	"github.com/mailtrail/mailtrail/internal/api/workmail"
	"github.com/mailtrail/mailtrail/internal/mailserver"
	"github.com/mailtrail/mailtrail/internal/mailserver/postfix"
	"github.com/mailtrail/mailtrail/internal/org"
	"github.com/mailtrail/mailtrail/internal/store"
)

// MailConfig is the mail-server side of `mailtrail serve`: which
// listeners and log followers turn Dovecot's and Postfix's activity into
// WorkMail records. The zero value runs none of them; the WorkMail
// management API is always served.
type MailConfig struct {
	// Account is the AWS account whose WorkMail organizations the mail
	// servers belong to: logins and addresses are looked up among its
	// organizations and records go to its log groups. Empty means the only
	// account of the credentials (or the default account without auth).
	Account string
	// PostfixPolicy is HOST:PORT for the policy delegation server.
	PostfixPolicy string
}

// enabled reports whether any mail-server listener is configured.
func (m MailConfig) enabled() bool {
	return m.PostfixPolicy != ""
}

// Where the directory of organizations and users and the access control
// rules live under the data directory.
const (
	orgDirName   = "workmail/organizations"
	rulesDirName = "workmail/rules"
)

// mailSide is the running mail-server side.
type mailSide struct {
	log     *slog.Logger
	account string
	dir     *org.Directory
	rules   *access.Store
	sink    *mailserver.Sink

	policy   *postfix.PolicyServer
	policyLn net.Listener

	wg   sync.WaitGroup
	errs chan error // a listener that stopped on its own
}

// startMail opens the organization directory and the rules, hangs the
// WorkMail management API behind the CloudWatch Logs API (same port, same
// SigV4 credentials, signing name "workmail"), and starts the configured
// mail-server listeners. The returned handler serves the HTTP port.
func startMail(cfg Config, st *store.Store, api *cwlogs.Server, auth cwlogs.Authenticator, creds *sigv4.Credentials) (*mailSide, http.Handler, error) {
	m := &mailSide{log: cfg.Logger, errs: make(chan error, 4)}
	var err error
	if m.dir, err = org.Open(filepath.Join(cfg.DataDir, orgDirName), org.Options{}); err != nil {
		return nil, nil, err
	}
	if m.rules, err = access.Open(filepath.Join(cfg.DataDir, rulesDirName), m.dir, access.Options{}); err != nil {
		return nil, nil, err
	}
	m.sink = mailserver.NewSink(st, api.Publish)

	wm, err := workmail.NewHandler(workmail.Config{
		Dir:            m.dir,
		Rules:          m.rules,
		Auth:           workmailAuth(auth),
		DefaultAccount: api.DefaultAccount,
		Region:         cfg.Region,
		Logger:         cfg.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	api.Fallback = wm
	var handler http.Handler = api

	if !cfg.Mail.enabled() {
		return m, handler, nil
	}
	if m.account, err = mailAccount(cfg, api.DefaultAccount, creds); err != nil {
		return nil, nil, err
	}
	if cfg.Mail.PostfixPolicy != "" {
		if err := m.startPostfixPolicy(cfg.Mail.PostfixPolicy); err != nil {
			m.close(context.Background())
			return nil, nil, err
		}
	}
	return m, handler, nil
}

// mailAccount picks the account the mail servers serve: the configured
// one, else the only account there is.
func mailAccount(cfg Config, defaultAccount string, creds *sigv4.Credentials) (string, error) {
	if cfg.Mail.Account != "" {
		return cfg.Mail.Account, nil
	}
	if cfg.NoAuth || creds == nil {
		return defaultAccount, nil
	}
	var accounts []string
	for _, c := range creds.All() {
		if !slices.Contains(accounts, c.AccountID) {
			accounts = append(accounts, c.AccountID)
		}
	}
	if len(accounts) != 1 {
		return "", fmt.Errorf("the credentials hold %d accounts (%v): say which one the mail servers belong to with --mail-account", len(accounts), accounts)
	}
	return accounts[0], nil
}

// workmailAuth adapts the SigV4 check of the CloudWatch Logs API to the
// WorkMail handler; nil (no auth) stays nil.
func workmailAuth(auth cwlogs.Authenticator) workmail.Authenticator {
	if auth == nil {
		return nil
	}
	return func(r *http.Request) (workmail.Caller, error) {
		id, aerr := auth(r)
		if aerr != nil {
			return workmail.Caller{}, &workmail.AuthError{Status: aerr.Status, Code: aerr.Code, Message: aerr.Msg}
		}
		return workmail.Caller{Account: id.Account, AccessKeyID: id.AccessKeyID, Region: id.Region}, nil
	}
}

func (m *mailSide) startPostfixPolicy(addr string) error {
	ps, err := postfix.NewPolicyServer(postfix.Config{
		Account:   m.account,
		Directory: m.dir,
		Rules:     m.rules,
		Sink:      m.sink,
		Logger:    m.log.With("component", "postfix-policy"),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("postfix policy server: listening on %s: %w", addr, err)
	}
	m.policy, m.policyLn = ps, ln
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := ps.Serve(ln); err != nil && !errors.Is(err, postfix.ErrServerClosed) {
			m.errs <- err
		}
	}()
	m.log.Info("serving Postfix policy delegation", "addr", ln.Addr().String(), "account", m.account)
	return nil
}

// close stops the mail-server listeners: no new decisions or records after
// it returns. Requests being answered finish first (each adapter bounds
// that itself).
func (m *mailSide) close(ctx context.Context) error {
	var errs []error
	if m.policy != nil {
		errs = append(errs, m.policy.Close())
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		close(m.errs)
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("mail-server listeners did not stop: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// PostfixPolicyAddr is the address the Postfix policy server listens on
// ("" when it is off).
func (s *Server) PostfixPolicyAddr() string {
	if s.mail == nil || s.mail.policyLn == nil {
		return ""
	}
	return s.mail.policyLn.Addr().String()
}
