package detect

import "sync"

// kwMatcher finds every occurrence of every keyword in a text, ASCII
// case-insensitively — what the Aho-Corasick trie over the ASCII-lowercased
// text found, without the lowercased copy and several times as fast:
// keywords are rule prefilters (key, token, secret, ://), so nearly every
// byte pair of a text starts none of them, and a bit set of the byte
// pairs (in every letter case) that start a keyword (8 KiB, in L1 cache)
// rejects those with one lookup. Keywords of one byte are checked at every
// byte. The same pass notes the fold hazards (see foldHazard).
type kwMatcher struct {
	kws      []string             // lower-case ASCII; index = pattern number
	pairBits [1 << 16 / 64]uint64 // raw byte pairs that may start a keyword or hazard
	pairList [1 << 16]uint16      // by lower-cased pair: index into lists; 0 = none
	lists    [][]int32            // keywords of 2+ bytes by their first two bytes
	single   [256][]int32         // keywords of one byte
}

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
		default:
			p := uint16(k[0])<<8 | uint16(k[1])
			if m.pairList[p] == 0 {
				m.pairList[p] = uint16(len(m.lists))
				m.lists = append(m.lists, nil)
				for _, a := range caseVariants(k[0]) {
					for _, b := range caseVariants(k[1]) {
						m.setPair(uint16(a)<<8 | uint16(b))
					}
				}
			}
			m.lists[m.pairList[p]] = append(m.lists[m.pairList[p]], int32(i))
		}
	}
	for _, p := range []uint16{0xC5BF, 0xC4B0, 0xE284} {
		m.setPair(p)
	}
	return m
}

func (m *kwMatcher) setPair(p uint16) { m.pairBits[p>>6] |= 1 << (p & 63) }

func caseVariants(c byte) []byte {
	if 'a' <= c && c <= 'z' {
		return []byte{c, c - 'a' + 'A'}
	}
	return []byte{c}
}

var hitPool = sync.Pool{New: func() any { return new([]kwHit) }}

// match appends the keyword occurrences in t to hits, in order of position,
// and tells whether t holds a fold hazard (foldHazard(t)). Texts are
// fragments of at most a few MiB (positions fit in int32).
func (m *kwMatcher) match(t string, hits []kwHit) ([]kwHit, bool) {
	haveSingle := false
	for _, s := range m.single {
		if len(s) > 0 {
			haveSingle = true
			break
		}
	}
	hazard := false
	n := len(t)
	for i := 0; i < n; i++ {
		if haveSingle {
			for _, id := range m.single[asciiLowerTab[t[i]]] {
				hits = append(hits, kwHit{id, int32(i)})
			}
		}
		if i+1 >= n {
			break
		}
		p := uint16(t[i])<<8 | uint16(t[i+1])
		if m.pairBits[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		switch p {
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
	}
	return hits, hazard
}
