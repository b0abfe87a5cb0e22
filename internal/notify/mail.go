package notify

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"slices"
	"strings"
	"time"
)

// Mailer sends plain-text e-mail through one SMTP server (net/smtp): it
// upgrades to TLS with STARTTLS whenever the server offers it, and signs in
// (AUTH PLAIN) only over TLS or to localhost, so a password never crosses
// the network in clear.
type Mailer struct {
	Addr     string // host:port of the server
	From     string // the sender, "Custos <alerts@example.com>" or a bare address
	Username string // empty: no sign-in
	Password string
	// TLS configures STARTTLS; nil verifies the server's certificate for
	// the host name of Addr.
	TLS *tls.Config
	// Timeout bounds one message's whole conversation (0: 30 seconds).
	Timeout time.Duration
}

// Send delivers one message to every recipient. id names the message
// (its Message-ID). Errors carry the server's answers, never the password.
func (m *Mailer) Send(ctx context.Context, id string, to []string, subject, body string, now time.Time) error {
	if len(to) == 0 {
		return errors.New("mail: no recipients")
	}
	from, err := mail.ParseAddress(m.From)
	if err != nil {
		return fmt.Errorf("mail: sender: %w", err)
	}
	to = slices.Clone(to)
	for i, rcpt := range to {
		a, err := mail.ParseAddress(rcpt)
		if err != nil {
			return fmt.Errorf("mail: recipient %q: %w", rcpt, err)
		}
		to[i] = a.Address
	}
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("mail: server address: %w", err)
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("mail: %w", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return fmt.Errorf("mail: EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if m.TLS != nil {
			cfg = m.TLS.Clone()
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("mail: STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		// PlainAuth itself refuses an unencrypted connection to anything
		// but localhost.
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("mail: sign-in: %w", err)
		}
	}
	if err := c.Mail(from.Address); err != nil {
		return fmt.Errorf("mail: MAIL FROM: %w", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("mail: RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if _, err := w.Write(message(from, to, id, subject, body, now)); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: DATA: %w", err)
	}
	return c.Quit()
}

// message is the RFC 5322 message: UTF-8 text in base64, the subject
// encoded, so no value can break a header or a line.
func message(from *mail.Address, to []string, id, subject, body string, now time.Time) []byte {
	domain := from.Address[strings.LastIndex(from.Address, "@")+1:]
	var b strings.Builder
	b.WriteString("From: " + from.String() + "\r\n")
	b.WriteString("To: " + strings.Join(to, ", ") + "\r\n")
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", oneLine(subject)) + "\r\n")
	b.WriteString("Date: " + now.Format(time.RFC1123Z) + "\r\n")
	b.WriteString("Message-ID: <" + oneLine(id) + "." + fmt.Sprint(now.UnixMilli()) + "@" + domain + ">\r\n")
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return []byte(b.String())
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

// helloName is this machine's name for EHLO (some servers refuse
// "localhost" from elsewhere).
func helloName() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}
