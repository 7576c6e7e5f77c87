package slotwire

import (
	"crypto/rand"
	"encoding/binary"
	"sync"
	"time"
)

// ID prefixes of the objects Slotwire creates.
const (
	PrefixTenant   = "ten_"
	PrefixAPIKey   = "key_"
	PrefixEndpoint = "ep_"
	PrefixEvent    = "evt_"
	PrefixDelivery = "dlv_"
	PrefixErasure  = "era_"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

var idGen struct {
	sync.Mutex
	lastMS uint64
	hi     uint16 // upper 16 random bits
	lo     uint64 // lower 64 random bits
}

// NewID returns prefix followed by a 26-character ULID: 48 bits of
// millisecond time and 80 random bits, Crockford base32. IDs made by one
// process are strictly increasing, so they sort in creation order and serve
// as pagination cursors.
func NewID(prefix string) string {
	return prefix + newULID(time.Now())
}

func newULID(now time.Time) string {
	ms := uint64(now.UnixMilli())
	idGen.Lock()
	if ms <= idGen.lastMS {
		ms = idGen.lastMS
		idGen.lo++
		if idGen.lo == 0 {
			idGen.hi++
		}
	} else {
		var r [10]byte
		_, _ = rand.Read(r[:])
		idGen.hi = binary.BigEndian.Uint16(r[:2])
		idGen.lo = binary.BigEndian.Uint64(r[2:])
		// Leave head room so increments within one millisecond do not wrap.
		idGen.hi &= 0x7fff
		idGen.lastMS = ms
	}
	hi, lo := idGen.hi, idGen.lo
	idGen.Unlock()

	var b [16]byte
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	binary.BigEndian.PutUint16(b[6:], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return encodeBase32(b)
}

// encodeBase32 encodes 128 bits as 26 Crockford base32 characters.
func encodeBase32(b [16]byte) string {
	var out [26]byte
	// 128 bits -> 130 bits (2 leading zero bits).
	var acc uint64
	bits := 2 // two implicit leading zero bits
	j := 0
	for i := 0; i < 16; i++ {
		acc = acc<<8 | uint64(b[i])
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[j] = crockford[(acc>>uint(bits))&31]
			j++
		}
	}
	return string(out[:j])
}

// RandomToken returns n random bytes.
func RandomToken(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
