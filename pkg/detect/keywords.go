package detect

import "sync"

// kwMatcher finds every occurrence of every keyword in a text, ASCII
// case-insensitively — what the Aho-Corasick trie over the ASCII-lowercased
// text found, without the lowercased copy and several times as fast:
// keywords are rule prefilters (key, token, secret, ://), so nearly every
// byte pair of a text starts none of them, and a bit set of the byte
// pairs (in every letter case) that start a keyword (8 KiB, in L1 cache)
// rejects those with one lookup. Keywords of one byte are checked at every
// byte. The same pass notes the fold hazards (see hazardRunes).
type kwMatcher struct {
	kws      []string             // lower-case ASCII; index = pattern number
	pairBits [1 << 16 / 64]uint64 // raw byte pairs that may start a keyword or hazard
	pairList [1 << 16]uint16      // by lower-cased pair: index into lists; 0 = none
	lists    [][]int32            // keywords of 2+ bytes by their first two bytes
	single   [256][]int32         // keywords of one byte
	// rawShort: raw byte pairs (every letter case) that are whole keywords
	// of two bytes, or start a fold hazard; rawTri: raw triHash of the
	// first three bytes (every letter case) of longer keywords. A position
	// whose pair and triple are in neither is no keyword's start.
	rawShort [1 << 16 / 64]uint64
	rawTri   [1 << 16 / 64]uint64
	// haveSingle: some keyword has one byte.
	haveSingle bool
}

// triHash spreads three bytes over 16 bits (multiplicative hashing; match
// computes the same from its sliding window).
func triHash(a, b, c byte) uint16 {
	return uint16((uint32(a)<<16 | uint32(b)<<8 | uint32(c)) * 0x9E3779B1 >> 16)
}

func setBit(set *[1 << 16 / 64]uint64, p uint16) { set[p>>6] |= 1 << (p & 63) }

// kwHit is one keyword occurrence: keyword pat at byte pos.
type kwHit struct {
	pat int32
	pos int32
}

var asciiLowerTab = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if 'A' <= i && i <= 'Z' {
			t[i] = byte(i + 'a' - 'A')
		}
	}
	return t
}()

// newKwMatcher: kws are lower-case (as ASCII); empty ones never match.
func newKwMatcher(kws []string) *kwMatcher {
	m := &kwMatcher{kws: kws, lists: [][]int32{nil}}
	for i, k := range kws {
		switch len(k) {
		case 0:
		case 1:
			m.single[k[0]] = append(m.single[k[0]], int32(i))
			m.haveSingle = true
		default:
			p := uint16(k[0])<<8 | uint16(k[1])
			if m.pairList[p] == 0 {
				m.pairList[p] = uint16(len(m.lists))
				m.lists = append(m.lists, nil)
				for _, a := range caseVariants(k[0]) {
					for _, b := range caseVariants(k[1]) {
						setBit(&m.pairBits, uint16(a)<<8|uint16(b))
					}
				}
			}
			m.lists[m.pairList[p]] = append(m.lists[m.pairList[p]], int32(i))
			for _, a := range caseVariants(k[0]) {
				for _, b := range caseVariants(k[1]) {
					if len(k) == 2 {
						setBit(&m.rawShort, uint16(a)<<8|uint16(b))
						continue
					}
					for _, c := range caseVariants(k[2]) {
						setBit(&m.rawTri, triHash(a, b, c))
					}
				}
			}
		}
	}
	for _, p := range []uint16{0xC5BF, 0xC4B0, 0xE284} {
		setBit(&m.pairBits, p)
		setBit(&m.rawShort, p)
	}
	return m
}

func caseVariants(c byte) []byte {
	if 'a' <= c && c <= 'z' {
		return []byte{c, c - 'a' + 'A'}
	}
	return []byte{c}
}

var hitPool = sync.Pool{New: func() any { return new([]kwHit) }}

// match appends the keyword occurrences in t to hits and tells whether t
// holds a fold hazard (see hazardRunes). Texts are fragments of at most a few
// MiB (positions fit in int32).
func (m *kwMatcher) match(t string, hits []kwHit) ([]kwHit, bool) {
	n := len(t)
	hazard := false
	if m.haveSingle {
		for i := 0; i < n; i++ {
			for _, id := range m.single[asciiLowerTab[t[i]]] {
				hits = append(hits, kwHit{id, int32(i)})
			}
		}
	}
	// The three bytes at i slide through w, one load per byte.
	var w uint32
	if n >= 2 {
		w = uint32(t[0])<<8 | uint32(t[1])
	}
	for i := 0; i+2 < n; i++ {
		w = (w<<8 | uint32(t[i+2])) & 0xFFFFFF
		p := uint16(w >> 8)
		h := uint16(w * 0x9E3779B1 >> 16)
		if (m.rawShort[p>>6]>>(p&63)|m.rawTri[h>>6]>>(h&63))&1 == 0 {
			continue
		}
		hits, hazard = m.at(t, i, hits, hazard)
	}
	if n >= 2 {
		p := uint16(t[n-2])<<8 | uint16(t[n-1])
		if m.pairBits[p>>6]&(1<<(p&63)) != 0 {
			hits, hazard = m.at(t, n-2, hits, hazard)
		}
	}
	return hits, hazard
}

// at appends the keywords of two bytes or more that occur at t[i:].
func (m *kwMatcher) at(t string, i int, hits []kwHit, hazard bool) ([]kwHit, bool) {
	n := len(t)
	switch uint16(t[i])<<8 | uint16(t[i+1]) {
	case 0xC5BF, 0xC4B0:
		hazard = true
	case 0xE284:
		hazard = hazard || i+2 < n && t[i+2] == 0xAA
	}
	lp := uint16(asciiLowerTab[t[i]])<<8 | uint16(asciiLowerTab[t[i+1]])
	for _, id := range m.lists[m.pairList[lp]] {
		k := m.kws[id]
		if i+len(k) > n {
			continue
		}
		j := 2
		for j < len(k) && asciiLowerTab[t[i+j]] == k[j] {
			j++
		}
		if j == len(k) {
			hits = append(hits, kwHit{id, int32(i)})
		}
	}
	return hits, hazard
}
