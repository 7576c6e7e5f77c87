package signature

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// The test vector published with the Standard Webhooks specification (and
// used by its reference libraries' own tests).
const (
	vecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vecID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vecTS     = 1614265330
	vecBody   = `{"test": 2432232314}`
	vecSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSpecVector(t *testing.T) {
	t.Parallel()
	got, err := Sign(vecSecret, vecID, time.Unix(vecTS, 0), []byte(vecBody))
	if err != nil {
		t.Fatal(err)
	}
	if got != vecSig {
		t.Fatalf("Sign = %s, want %s", got, vecSig)
	}
	now := time.Unix(vecTS+10, 0)
	if err := Verify(vecSecret, vecID, strconv.Itoa(vecTS), vecSig, []byte(vecBody), now, DefaultTolerance); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	t.Parallel()
	ts := strconv.Itoa(vecTS)
	now := time.Unix(vecTS, 0)
	cases := []struct {
		name        string
		id, ts, sig string
		body        string
		now         time.Time
		want        error
	}{
		{"tampered body", vecID, ts, vecSig, `{"test": 1}`, now, ErrNoMatch},
		{"other id", "msg_x", ts, vecSig, vecBody, now, ErrNoMatch},
		{"old timestamp", vecID, ts, vecSig, vecBody, now.Add(6 * time.Minute), ErrTimestamp},
		{"future timestamp", vecID, ts, vecSig, vecBody, now.Add(-6 * time.Minute), ErrTimestamp},
		{"bad timestamp", vecID, "abc", vecSig, vecBody, now, ErrTimestamp},
		{"missing sig", vecID, ts, "", vecBody, now, ErrMissingHeaders},
		{"v2 only", vecID, ts, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", vecBody, now, ErrNoMatch},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Verify(vecSecret, c.id, c.ts, c.sig, []byte(c.body), c.now, DefaultTolerance)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyAcceptsAnyOfSeveral(t *testing.T) {
	t.Parallel()
	header := "v1,bm9wZQ== " + vecSig
	if err := Verify(vecSecret, vecID, strconv.Itoa(vecTS), header, []byte(vecBody), time.Unix(vecTS, 0), DefaultTolerance); err != nil {
		t.Fatal(err)
	}
}

func TestValidateSecret(t *testing.T) {
	t.Parallel()
	if err := ValidateSecret(NewSecret(make([]byte, 32))); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"", "abc", "whsec_!!!", "whsec_YWJj"} {
		if ValidateSecret(s) == nil {
			t.Errorf("%q: want error", s)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(vecID, strconv.Itoa(vecTS), vecSig, []byte(vecBody))
	f.Add("", "", "", []byte(nil))
	f.Add("a", "1", "v1,,, v1 v1,====", []byte("x"))
	now := time.Unix(vecTS, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		err := Verify(vecSecret, id, ts, sig, body, now, DefaultTolerance)
		if err == nil {
			// Anything accepted must be what Sign produces.
			unix, perr := strconv.ParseInt(ts, 10, 64)
			if perr != nil {
				t.Fatalf("accepted unparsable timestamp %q", ts)
			}
			want, _ := Sign(vecSecret, id, time.Unix(unix, 0), body)
			found := false
			for _, p := range splitSpace(sig) {
				if p == want {
					found = true
				}
			}
			if !found {
				t.Fatalf("accepted %q for id=%q ts=%q, want %q", sig, id, ts, want)
			}
		}
		// Signing then verifying always round-trips.
		unix := now.Unix()
		s, _ := Sign(vecSecret, id+"x", time.Unix(unix, 0), body)
		if err := Verify(vecSecret, id+"x", strconv.FormatInt(unix, 10), s, body, now, DefaultTolerance); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func splitSpace(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}
