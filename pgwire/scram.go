package pgwire

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"hash"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/xdg-go/scram"
	"github.com/xdg-go/stringprep"
)

// SCRAM-SHA-256 (RFC 5802, RFC 7677) and SCRAM-SHA-256-PLUS with tls-server-end-point channel
// binding (RFC 5929) run on github.com/xdg-go/scram, a maintained implementation with server-side
// channel binding; this file only maps PostgreSQL's SASL messages and error reports onto it.

const (
	mechSCRAM     = "SCRAM-SHA-256"
	mechSCRAMPlus = "SCRAM-SHA-256-PLUS"
)

// tlsServerEndPoint is the tls-server-end-point channel binding data of a certificate: its hash
// under the hash of its signature algorithm, SHA-256 for MD5 and SHA-1 (RFC 5929 section 4.1),
// as PostgreSQL computes it. false for certificates without such a hash (Ed25519): the server
// then does not offer SCRAM-SHA-256-PLUS.
func tlsServerEndPoint(cert *x509.Certificate) ([]byte, bool) {
	var h hash.Hash
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.SHA256WithRSAPSS, x509.ECDSAWithSHA256, x509.DSAWithSHA256:
		h = sha256.New()
	case x509.SHA384WithRSA, x509.SHA384WithRSAPSS, x509.ECDSAWithSHA384:
		h = sha512.New384()
	case x509.SHA512WithRSA, x509.SHA512WithRSAPSS, x509.ECDSAWithSHA512:
		h = sha512.New()
	default:
		return nil, false
	}
	h.Write(cert.Raw)
	return h.Sum(nil), true
}

// storedCredentials derives a verifier's keys from a password: SASLprep first, the raw password
// when SASLprep rejects it, exactly as libpq and PostgreSQL do (so verifiers copied from
// PostgreSQL and passwords typed into psql agree).
func storedCredentials(password string, salt []byte, iterations int) (scram.StoredCredentials, error) {
	prepped, err := stringprep.SASLprep.Prepare(password)
	if err != nil {
		prepped = password
	}
	client, err := scram.SHA256.NewClientUnprepped("", prepped, "")
	if err != nil {
		return scram.StoredCredentials{}, err
	}
	return client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: iterations})
}

// authSCRAM runs the SASL exchange. Over TLS it offers SCRAM-SHA-256-PLUS before SCRAM-SHA-256,
// as PostgreSQL does, and binds the exchange to the server certificate when the client picks it.
// For an unknown user (u == nil, or a user with only an MD5 hash) it runs the exchange against a
// made-up verifier and fails at the end, as PostgreSQL does, so user names cannot be probed.
func (c *conn) authSCRAM(u *userEntry) (bool, error) {
	var cred scram.StoredCredentials
	if u != nil && u.scram != nil {
		v := u.scram
		cred = scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: string(v.salt), Iters: v.iterations},
			StoredKey: v.storedKey, ServerKey: v.serverKey}
	} else {
		// A salt that stays the same for the name (a real user's would), and keys no proof can
		// match: StoredKey is H(ClientKey), so finding a ClientKey for it means inverting SHA-256.
		h := hmac.New(sha256.New, c.srv.mockSecret)
		h.Write([]byte(c.user))
		sum := h.Sum(nil)
		cred = scram.StoredCredentials{KeyFactors: scram.KeyFactors{Salt: string(sum[:16]), Iters: scramIterations},
			StoredKey: hmacSHA256(c.srv.mockSecret, "stored key"), ServerKey: hmacSHA256(c.srv.mockSecret, "server key")}
	}
	// The SCRAM user name is ignored, as PostgreSQL does: libpq sends an empty one, the startup
	// packet's user is the one authenticated.
	srv, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return cred, nil })
	if err != nil {
		return false, err
	}
	mechs := []string{mechSCRAM}
	var conv *scram.ServerConversation
	if c.tls && c.srv.tlsEndPoint != nil {
		mechs = []string{mechSCRAMPlus, mechSCRAM}
		conv = srv.NewConversationWithChannelBinding(scram.ChannelBinding{
			Type: scram.ChannelBindingTLSServerEndpoint, Data: c.srv.tlsEndPoint})
	} else {
		conv = srv.NewConversation()
	}
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: mechs})
	body, err := c.readPasswordFrame()
	if err != nil {
		return false, err
	}
	var init pgproto3.SASLInitialResponse
	if err := init.Decode(body); err != nil {
		return false, fatalError(codeProtocolViolation, "malformed SASL message")
	}
	offered := false
	for _, m := range mechs {
		offered = offered || init.AuthMechanism == m
	}
	if !offered {
		return false, fatalError(codeProtocolViolation, "client selected an invalid SASL authentication mechanism")
	}
	// The mechanism and the GS2 channel-binding flag must agree; the library checks the flag
	// against what was offered, this checks it against what the client picked.
	binds := strings.HasPrefix(string(init.Data), "p=")
	switch {
	case init.AuthMechanism == mechSCRAMPlus && !binds:
		return false, scramError(codeProtocolViolation, "malformed SCRAM message",
			"The client selected SCRAM-SHA-256-PLUS, but the SCRAM message does not include channel binding data.")
	case init.AuthMechanism == mechSCRAM && binds:
		return false, scramError(codeProtocolViolation, "malformed SCRAM message",
			"The client selected SCRAM-SHA-256 without channel binding, but the SCRAM message includes channel binding data.")
	}
	serverFirst, err := conv.Step(string(init.Data))
	if err != nil {
		return false, scramStepError(serverFirst, err)
	}
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})

	body, err = c.readPasswordFrame()
	if err != nil {
		return false, err
	}
	var resp pgproto3.SASLResponse
	if err := resp.Decode(body); err != nil {
		return false, fatalError(codeProtocolViolation, "malformed SASL message")
	}
	serverFinal, err := conv.Step(string(resp.Data))
	if err != nil {
		if serverFinal == scram.ErrInvalidProof {
			return false, nil
		}
		return false, scramStepError(serverFinal, err)
	}
	if !conv.Valid() {
		return false, nil
	}
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte(serverFinal)})
	return true, nil
}

func scramError(code, msg, detail string) *pgError {
	pe := fatalError(code, "%s", msg)
	pe.Detail = detail
	return pe
}

// scramStepError reports a failed SCRAM step with PostgreSQL's messages. serverErr is the
// library's RFC 5802 error attribute ("e=…"), empty for a message it could not parse.
func scramStepError(serverErr string, err error) *pgError {
	switch serverErr {
	case scram.ErrServerDoesSupportChannelBinding:
		return scramError(codeProtocolViolation, "SCRAM channel binding negotiation error",
			"The client supports SCRAM channel binding but thinks the server does not.  However, this server does support channel binding.")
	case scram.ErrChannelBindingNotSupported, scram.ErrUnsupportedChannelBindingType:
		return scramError(codeProtocolViolation, "unsupported SCRAM channel-binding type",
			"This server offers tls-server-end-point channel binding over TLS only.")
	case scram.ErrChannelBindingsDontMatch:
		return fatalError(codeProtocolViolation, "SCRAM channel binding check failed")
	}
	return scramError(codeProtocolViolation, "malformed SCRAM message", err.Error())
}
