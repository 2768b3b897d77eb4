package detect

import "sync"

// kwMatcher finds every occurrence of every keyword in a text, ASCII
// case-insensitively — what the Aho-Corasick trie over the ASCII-lowercased
// text found, without the lowercased copy and about four times as fast:
// keywords are rule prefilters (key, token, secret, ://), so nearly every
// byte pair of a text starts none of them, and a bit set of the byte
// pairs that start a keyword (8 KiB, in L1 cache) rejects those with two
// table lookups. Keywords of one byte are checked at every byte.
type kwMatcher struct {
	kws      []string // lower-case ASCII; index = pattern number
	pairBits [1 << 16 / 64]uint64
	pairList [1 << 16]uint16 // index into lists; 0 = none
	lists    [][]int32       // keywords of 2+ bytes by their first two bytes
	single   [256][]int32    // keywords of one byte
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
				m.pairBits[p>>6] |= 1 << (p & 63)
			}
			m.lists[m.pairList[p]] = append(m.lists[m.pairList[p]], int32(i))
		}
	}
	return m
}

var hitPool = sync.Pool{New: func() any { return new([]kwHit) }}

// match appends the keyword occurrences in t to hits, in order of position.
// Texts are fragments of at most a few MiB (positions fit in int32).
func (m *kwMatcher) match(t string, hits []kwHit) []kwHit {
	haveSingle := false
	for _, s := range m.single {
		if len(s) > 0 {
			haveSingle = true
			break
		}
	}
	n := len(t)
	for i := 0; i < n; i++ {
		c0 := asciiLowerTab[t[i]]
		if haveSingle {
			for _, id := range m.single[c0] {
				hits = append(hits, kwHit{id, int32(i)})
			}
		}
		if i+1 >= n {
			break
		}
		p := uint16(c0)<<8 | uint16(asciiLowerTab[t[i+1]])
		if m.pairBits[p>>6]&(1<<(p&63)) == 0 {
			continue
		}
		for _, id := range m.lists[m.pairList[p]] {
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
	return hits
}
