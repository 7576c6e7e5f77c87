package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slotwire/slotwire/signature"
)

const verifyAbout = `Check the signature of a webhook request as a receiver would, and say in one line why it
fails. The request is a raw HTTP dump (request line, headers, blank line, body) on standard
input or in FILE, or its headers and body in two files (--headers, --body).

The signature profile is found from the headers unless --profile names it: standard
(webhook-signature v1,…), ed25519 (v1a,…, checked with the endpoint's whpk_ public key),
hex-hmac (sha256=<hex>, GitHub's style) or timestamped (t=…,v1=…, Stripe's style).
"slotwire endpoints secret ID" prints an endpoint's secret or public key.

Exit status: 0 when the signature verifies, 1 when it does not, 2 on a usage error
(a malformed secret or key included).`

func verifyCmd() *command {
	return &command{name: "verify", usage: "--secret SECRET | --public-key KEY [flags] [FILE | < request.http]", nargs: -1,
		summary: "check a webhook's signature and say why it fails", about: verifyAbout, json: true,
		example: `slotwire verify --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw < request.http
slotwire verify --public-key whpk_… request.http
slotwire verify --secret s3cret --headers headers.txt --body body.json --profile hex-hmac
slotwire verify --secret whsec_… --now 2026-11-22T14:14:00Z --tolerance 10m < request.http`,
		setup: verifySetup}
}

// verifyOpts are verify's flags.
type verifyOpts struct {
	secret, publicKey, profile, header, now, headers, body string
	tolerance                                              time.Duration
}

func verifySetup(fs *flag.FlagSet, c *cli) func([]string) error {
	o := &verifyOpts{tolerance: signature.DefaultTolerance}
	fs.StringVar(&o.secret, "secret", "", "the endpoint's signing secret (whsec_…, or as given for hex-hmac and timestamped)")
	fs.StringVar(&o.publicKey, "public-key", "", "the endpoint's Ed25519 public key (whpk_…)")
	fs.StringVar(&o.profile, "profile", "", "standard, ed25519, hex-hmac or timestamped (default: found from the headers)")
	fs.StringVar(&o.header, "signature-header", "", "header holding a hex-hmac or timestamped signature (default X-Signature-256, X-Signature)")
	fs.Var((*durationValue)(&o.tolerance), "tolerance", "how far the signed timestamp may be from now (0: no check)")
	fs.StringVar(&o.now, "now", "", "the time to check the timestamp against, RFC 3339 (default: now)")
	fs.StringVar(&o.headers, "headers", "", "file of the request's headers (Name: value lines, or a JSON object), with --body")
	fs.StringVar(&o.body, "body", "", "file of the request's body, byte for byte, with --headers")
	return func(args []string) error {
		v, err := o.prepare(c, args)
		if err != nil {
			return err
		}
		res := v.check()
		if c.json {
			out, _ := json.Marshal(res)
			if err := c.printJSON(out); err != nil {
				return err
			}
		} else if res.Verified {
			fmt.Fprintln(c.stdout, "verified:", res.Detail)
		}
		if !res.Verified {
			return errors.New(res.Reason)
		}
		return nil
	}
}

// verification is one check of one request.
type verification struct {
	w         *webhook
	profile   string // a signature.Profile… constant
	header    string // the signature's header
	key       string // secret or public key
	now       time.Time
	tolerance time.Duration
}

// verifyResult is what verify says (and prints with --json).
type verifyResult struct {
	Verified  bool   `json:"verified"`
	Profile   string `json:"profile,omitempty"`
	Header    string `json:"header,omitempty"`
	WebhookID string `json:"webhook_id,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// prepare reads the request and settles profile, header and key; what is
// wrong with the command line is a usage error.
func (o *verifyOpts) prepare(c *cli, args []string) (*verification, error) {
	v := &verification{tolerance: o.tolerance, now: time.Now()}
	if o.now != "" {
		t, err := time.Parse(time.RFC3339Nano, o.now)
		if err != nil {
			return nil, usagef("--now %q: want an RFC 3339 time such as 2026-11-22T14:14:00Z", o.now)
		}
		v.now = t
	}
	if o.tolerance < 0 {
		return nil, usagef("--tolerance must not be negative")
	}
	var err error
	if v.w, err = o.read(c, args); err != nil {
		return nil, err
	}
	if v.profile, v.header, err = o.pickProfile(v.w.header); err != nil {
		return nil, err
	}
	if v.key, err = o.pickKey(v.profile); err != nil {
		return nil, err
	}
	return v, nil
}

// read reads the request: --headers and --body, FILE, or standard input.
func (o *verifyOpts) read(c *cli, args []string) (*webhook, error) {
	switch {
	case len(args) > 1:
		return nil, usagef("verify: one request at a time (got %d files)", len(args))
	case (o.headers == "") != (o.body == ""):
		return nil, usagef("verify: --headers and --body go together")
	case o.headers != "" && len(args) > 0:
		return nil, usagef("verify: give the request as FILE, or as --headers and --body, not both")
	case o.headers != "":
		hb, err := readInput("--headers", o.headers, c.stdin)
		if err != nil {
			return nil, err
		}
		body, err := readInput("--body", o.body, c.stdin)
		if err != nil {
			return nil, err
		}
		h, err := parseHeaderFile(hb)
		if err != nil {
			return nil, usagef("--headers %s: %v", o.headers, err)
		}
		return &webhook{header: h, body: body}, nil
	}
	var data []byte
	var err error
	switch {
	case len(args) == 1:
		data, err = readInput("verify", args[0], c.stdin)
	case isTerminal(c.stdin):
		return nil, usagef("verify: give the request on standard input (< request.http), as FILE, or as --headers and --body")
	default:
		data, err = io.ReadAll(c.stdin)
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, usagef("verify: no request: give it on standard input, as FILE, or as --headers and --body (see slotwire verify -h)")
	}
	w, err := parseDump(data)
	if err != nil {
		return nil, usagef("verify: the request does not parse: %v", err)
	}
	return w, nil
}

// signatureProfiles maps the names verify takes to the API's profile names.
var signatureProfiles = map[string]string{
	"standard": signature.ProfileStandard, "ed25519": signature.ProfileEd25519, "standard-ed25519": signature.ProfileEd25519,
	"hex-hmac": signature.ProfileHexHMAC, "hmac-sha256-hex": signature.ProfileHexHMAC, "github": signature.ProfileHexHMAC,
	"timestamped": signature.ProfileTimestamped, "stripe": signature.ProfileTimestamped,
}

// pickProfile returns the profile (--profile, else found from the
// headers) and the header its signature is in.
func (o *verifyOpts) pickProfile(h http.Header) (profile, header string, err error) {
	if o.profile != "" {
		p, ok := signatureProfiles[strings.ToLower(o.profile)]
		if !ok {
			return "", "", usagef("--profile %q: use standard, ed25519, hex-hmac or timestamped", o.profile)
		}
		return p, o.headerOf(p), nil
	}
	if o.header != "" {
		return detectValue(h.Get(o.header), o.publicKey != ""), o.header, nil
	}
	if sig := h.Get(signature.HeaderSignature); sig != "" {
		return detectValue(sig, o.publicKey != ""), signature.HeaderSignature, nil
	}
	for _, name := range []string{"X-Signature-256", "X-Signature"} {
		if v := h.Get(name); v != "" {
			return detectValue(v, false), name, nil
		}
	}
	for _, name := range sortedKeys(flatten(h)) {
		if p := detectValue(h.Get(name), false); p == signature.ProfileHexHMAC || p == signature.ProfileTimestamped {
			if v := h.Get(name); strings.HasPrefix(v, "sha256=") || strings.HasPrefix(v, "t=") {
				return p, name, nil
			}
		}
	}
	if o.publicKey != "" {
		return signature.ProfileEd25519, signature.HeaderSignature, nil
	}
	return signature.ProfileStandard, signature.HeaderSignature, nil
}

// headerOf is the signature header of a profile: --signature-header, else
// the profile's default.
func (o *verifyOpts) headerOf(profile string) string {
	switch {
	case o.header != "":
		return o.header
	case profile == signature.ProfileHexHMAC:
		return "X-Signature-256"
	case profile == signature.ProfileTimestamped:
		return "X-Signature"
	}
	return signature.HeaderSignature
}

// detectValue is the profile a signature header value looks like.
func detectValue(v string, haveKey bool) string {
	switch {
	case strings.HasPrefix(v, "sha256="):
		return signature.ProfileHexHMAC
	case strings.HasPrefix(v, "t=") || strings.Contains(v, ",v1="):
		return signature.ProfileTimestamped
	case strings.Contains(v, "v1a,"):
		return signature.ProfileEd25519
	case v == "" && haveKey:
		return signature.ProfileEd25519
	}
	return signature.ProfileStandard
}

func flatten(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, v := range h {
		m[k] = strings.Join(v, ", ")
	}
	return m
}

// pickKey returns the key the profile verifies with; a missing or
// malformed one is a usage error.
func (o *verifyOpts) pickKey(profile string) (string, error) {
	if profile == signature.ProfileEd25519 {
		switch {
		case o.publicKey == "" && o.secret != "":
			return "", usagef("the request is signed with Ed25519 (v1a): verify it with the endpoint's public key, --public-key whpk_… (slotwire endpoints secret ID prints it)")
		case o.publicKey == "":
			return "", usagef("verify: give the endpoint's public key, --public-key whpk_…")
		}
		if _, err := signature.DecodePublicKey(o.publicKey); err != nil {
			return "", usagef("malformed public key: want whpk_ followed by the base64 of a 32-byte Ed25519 public key")
		}
		return o.publicKey, nil
	}
	switch {
	case o.secret == "" && o.publicKey != "":
		return "", usagef("the request is signed with a shared secret (%s), not Ed25519: verify it with --secret", profile)
	case o.secret == "":
		return "", usagef("verify: give the endpoint's secret, --secret whsec_… (slotwire endpoints secret ID prints it)")
	case profile != signature.ProfileStandard:
		return o.secret, nil
	case strings.HasPrefix(o.secret, signature.SecretKeyPrefix):
		return "", usagef("malformed secret: %s… is an Ed25519 secret key; verify with its public key (whpk_…)", signature.SecretKeyPrefix)
	}
	key, err := signature.DecodeSecret(o.secret)
	if err != nil || len(key) == 0 {
		return "", usagef("malformed secret: want whsec_ followed by standard base64 of the key")
	}
	return o.secret, nil
}
