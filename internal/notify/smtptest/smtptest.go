// Package smtptest is an SMTP server for tests, as net/http/httptest is an
// HTTP one: it speaks enough SMTP for net/smtp (EHLO, optional STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, QUIT) and keeps what it received.
package smtptest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server received.
type Message struct {
	From string
	To   []string
	Data string // the message as sent, dot-unstuffed
	User string // who signed in (AUTH PLAIN), "" when nobody did
	Pass string
	TLS  bool // whether STARTTLS was used
}

// Server listens on 127.0.0.1 until the test ends.
type Server struct {
	Addr string
	// ClientTLS trusts the server's certificate, for a Mailer's TLS.
	ClientTLS *tls.Config
	ln        net.Listener
	reject    int
	tls       *tls.Config
	mu        sync.Mutex
	messages  []Message
}

// NewServer starts a server; with startTLS it offers STARTTLS with a
// certificate for 127.0.0.1 and localhost.
func NewServer(t *testing.T, startTLS bool) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln}
	if startTLS {
		s.tls, s.ClientTLS = certificates(t)
	}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

// RejectNext makes the server refuse the next n messages at DATA (451).
func (s *Server) RejectNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject = n
}

// Messages returns what the server received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

func (s *Server) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.session(conn)
	}
}

func (s *Server) session(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	say := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	var m Message
	say("220 smtptest ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch {
		case verb == "EHLO" || verb == "HELO":
			if s.tls != nil && !m.TLS {
				say("250-smtptest", "250-STARTTLS", "250 AUTH PLAIN")
			} else {
				say("250-smtptest", "250 AUTH PLAIN")
			}
		case verb == "STARTTLS" && s.tls != nil:
			say("220 go ahead")
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, m.TLS = tc, true
			r, w = bufio.NewReader(tc), bufio.NewWriter(tc)
		case verb == "AUTH":
			f := strings.Fields(line)
			if len(f) < 3 || !strings.EqualFold(f[1], "PLAIN") {
				say("504 only PLAIN")
				continue
			}
			raw, _ := base64.StdEncoding.DecodeString(f[2])
			parts := strings.Split(string(raw), "\x00")
			if len(parts) == 3 {
				m.User, m.Pass = parts[1], parts[2]
			}
			say("235 accepted")
		case verb == "MAIL":
			m.From = address(line)
			say("250 ok")
		case verb == "RCPT":
			m.To = append(m.To, address(line))
			say("250 ok")
		case verb == "DATA":
			say("354 go on")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			m.Data = data.String()
			s.mu.Lock()
			reject := s.reject > 0
			if reject {
				s.reject--
			} else {
				s.messages = append(s.messages, m)
			}
			s.mu.Unlock()
			if reject {
				say("451 try again later")
			} else {
				say("250 queued")
			}
			m = Message{User: m.User, Pass: m.Pass, TLS: m.TLS}
		case verb == "RSET" || verb == "NOOP":
			say("250 ok")
		case verb == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

// address reads the <address> of a MAIL or RCPT line.
func address(line string) string {
	i, j := strings.Index(line, "<"), strings.LastIndex(line, ">")
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}

// certificates makes a self-signed certificate for the server and a client
// configuration that trusts it.
func certificates(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}
