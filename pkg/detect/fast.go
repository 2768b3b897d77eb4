package detect

import (
	"maps"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/zricethezav/gitleaks/v8/config"
	gldetect "github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/detect/codec"
	"github.com/zricethezav/gitleaks/v8/report"
)

// The windowed engine (docs/benchmarks.md, "Keyword windows").
//
// gitleaks' Detect lowercases the whole fragment, finds which rule keywords
// occur anywhere in it, and then runs every rule with a keyword hit over the
// WHOLE fragment — and, with decoding on, does all of it again over the
// decoded text. Nearly all of the time goes to those regex runs.
//
// Most rules can only match text that contains one of their keywords, and
// cannot match more than a bounded number of bytes, or else more than a
// bounded number of newlines (the analysis below proves both from the
// rule's regex syntax). For those "windowable" rules every match lies
// within its width (or its lines) of a keyword hit, so running each over
// whole lines around its own hits finds exactly the matches a run over the
// whole fragment finds:
//   - a rule's window is the whole lines around [hit-radius, hit+radius]
//     (radius = width + windowMargin; or lines+1 lines either side); the
//     rule's overlapping windows merge. No match of the full text straddles
//     a window edge (it would contain a hit whose window covers it), so the
//     leftmost-first, non-overlapping search is in step at each window start;
//   - any match found in a window contains a hit whose window reaches
//     radius (> width) bytes beyond it on both sides, so the engine never
//     looks at a window edge while matching (no anchor, \b or $ is ever
//     evaluated there unless the edge is the fragment's own): a window
//     edge never cuts, changes or invents a match;
//   - whole lines keep gitleaks' line, column and Line (for line-targeted
//     allowlists and gitleaks:allow) identical.
//
// Each windowable rule has its own gitleaks detector and runs only over its
// own windows. Rules that fail the analysis (no keyword literal required,
// unbounded width and newlines, required rules) run over the whole
// fragment as before, but only when one of their keywords is present.
// Fragments with the few runes whose case folding crosses into ASCII (K
// KELVIN SIGN, ſ LONG S, İ) fall back to plain gitleaks Detect. With
// decoding on, the decoding passes are replayed with gitleaks' own decoder
// and only checked (decodedMayFind): when a pass could report something,
// the fragment falls back to plain gitleaks Detect (exact by construction);
// otherwise the decoding passes are known to add nothing.
type windowed struct {
	full *gldetect.Detector // plain gitleaks, all rules, decoding depth as set
	win  []winRule          // windowable rules, each its own detector, depth 0
	rest *gldetect.Detector // all other rules, depth 0
	// restAlways: some rest rule has no keyword (runs on every fragment).
	restAlways bool
	decode     bool
	kw         *kwMatcher
	kwWin      [][]int // per keyword: the windowable rules with that keyword
	kwRest     []bool  // per keyword: keyword of a rest rule
	kwLen      []int
	// restRules are the rules in rest; kwRestRules, per keyword, the
	// rest rules with that keyword (for decodedMayFind).
	restRules   []restRule
	kwRestRules [][]int
	// restOpaque: some rest rule is opaque; rest rules then run together.
	restOpaque bool
}

// restRule is a rule that runs over whole fragments. opaque: its findings
// depend on other rules (required rules, skipped reports), so
// decodedMayFind cannot judge it by its own regex.
type restRule struct {
	rule   config.Rule
	det    *gldetect.Detector // this rule alone, depth 0
	opaque bool
	// filter, when set, tells the fragments its regex may match in
	// (hitfilter.go).
	filter func(raw string) bool
}

// winRule is a windowable rule: its window reaches radius bytes (and, when
// lines > 0, lines whole lines) beyond each hit of its keywords.
type winRule struct {
	det           *gldetect.Detector
	rule          config.Rule
	radius, lines int
	// filter, when set, tells the hits that may hold a match (hitfilter.go).
	filter hitFilter
	// before is how many lines the window reaches before a hit's line
	// (lines, unless hitfilter.go knows better).
	before int
}

type span struct{ a, b int }

// windowMargin is added to every radius: lookaround context (one byte)
// with room to spare.
const windowMargin = 16

// maxWindowWidth: rules that can match more bytes than this run over the
// whole fragment.
const maxWindowWidth = 8 << 10

func newWindowed(cfg config.Config, full *gldetect.Detector) *windowed {
	w := &windowed{full: full, decode: full.MaxDecodeDepth > 0}
	restCfg := cfg
	restCfg.Rules = map[string]config.Rule{}
	restCfg.Keywords = map[string]struct{}{}
	winKw := map[string][]int{}
	restKw := map[string]bool{}
	restKwRules := map[string][]int{}
	ids := slices.Sorted(maps.Keys(cfg.Rules))
	for _, id := range ids {
		r := cfg.Rules[id]
		if r.Regex == nil {
			// Path-only rules: ScanPath's business, dropped by Scan.
			continue
		}
		width, nl, ok := windowable(r)
		if ok {
			for _, k := range r.Keywords {
				k = strings.ToLower(k)
				if !slices.Contains(winKw[k], len(w.win)) {
					winKw[k] = append(winKw[k], len(w.win))
				}
			}
			wr := winRule{det: singleRule(cfg, id, r), rule: r, radius: width + windowMargin}
			if width == 0 {
				wr.lines = nl + 1
			}
			wr.before = wr.lines
			if f, ok := hitFilters[id]; ok && r.Regex.String() == f.regex && speedups.hitFilters {
				wr.filter = f.filter
				if n, ok := filterLinesBefore[id]; ok && n < wr.lines {
					wr.before = n
				}
			}
			w.win = append(w.win, wr)
			continue
		}
		restCfg.Rules[id] = r
		if len(r.Keywords) == 0 {
			w.restAlways = true
		}
		for _, k := range r.Keywords {
			k = strings.ToLower(k)
			restCfg.Keywords[k] = struct{}{}
			restKw[k] = true
			if !slices.Contains(restKwRules[k], len(w.restRules)) {
				restKwRules[k] = append(restKwRules[k], len(w.restRules))
			}
		}
		opaque := len(r.RequiredRules) > 0 || r.SkipReport
		w.restOpaque = w.restOpaque || opaque
		rr := restRule{rule: r, det: singleRule(cfg, id, r), opaque: opaque}
		if f, ok := fragmentFilters[id]; ok && r.Regex.String() == f.regex && speedups.hitFilters {
			rr.filter = f.filter
		}
		w.restRules = append(w.restRules, rr)
	}
	restCfg.OrderedRules = filterOrdered(cfg.OrderedRules, restCfg.Rules)
	w.rest = gldetect.NewDetector(restCfg)
	w.rest.MaxDecodeDepth, w.rest.Redact = 0, 0
	kws := slices.Collect(maps.Keys(winKw))
	for k := range restKw {
		if _, ok := winKw[k]; !ok {
			kws = append(kws, k)
		}
	}
	sort.Strings(kws)
	w.kw = newKwMatcher(kws)
	for _, k := range kws {
		w.kwWin = append(w.kwWin, winKw[k])
		w.kwRest = append(w.kwRest, restKw[k])
		w.kwRestRules = append(w.kwRestRules, restKwRules[k])
		w.kwLen = append(w.kwLen, len(k))
	}
	return w
}

// singleRule is a gitleaks detector of cfg with rule id (r) alone, at
// decoding depth 0, unredacted: a windowable rule's windows, or a rule
// that runs over whole fragments, go through it.
func singleRule(cfg config.Config, id string, r config.Rule) *gldetect.Detector {
	one := cfg
	one.Rules = map[string]config.Rule{id: r}
	one.Keywords = map[string]struct{}{}
	one.OrderedRules = []string{id}
	for _, k := range r.Keywords {
		one.Keywords[strings.ToLower(k)] = struct{}{}
	}
	det := gldetect.NewDetector(one)
	det.MaxDecodeDepth, det.Redact = 0, 0
	return det
}

func filterOrdered(ids []string, rules map[string]config.Rule) []string {
	var out []string
	for _, id := range ids {
		if _, ok := rules[id]; ok {
			out = append(out, id)
		}
	}
	return out
}

// windowable tells whether every match of r contains one of its keywords
// (ASCII case-insensitively) and is at most width bytes long (width > 0),
// or else spans at most lines newlines (width 0).
func windowable(r config.Rule) (width, lines int, ok bool) {
	width, lines, ok = windowable1(r)
	return
}

func windowable1(r config.Rule) (width, lines int, ok bool) {
	if r.Regex == nil || len(r.Keywords) == 0 || len(r.RequiredRules) > 0 || r.SkipReport {
		return 0, 0, false
	}
	var kws []string
	for _, k := range r.Keywords {
		k = asciiLower(k)
		if k == "" {
			return 0, 0, false
		}
		kws = append(kws, k)
	}
	re, err := syntax.Parse(r.Regex.String(), syntax.Perl)
	if err != nil || !requiresKeyword(re, kws) {
		return 0, 0, false
	}
	if width, bounded := maxWidth(re); bounded && width <= maxWindowWidth {
		return width, 0, true
	}
	if lines, bounded := maxNewlines(re); bounded && lines <= maxWindowLines {
		return 0, lines, true
	}
	return 0, 0, false
}

// maxWindowLines: rules whose matches can span more newlines than this
// run over the whole fragment.
const maxWindowLines = 16

// maxNewlines is the most newlines a match of re can contain.
func maxNewlines(re *syntax.Regexp) (int, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return strings.Count(string(re.Rune), "\n"), true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] <= '\n' && '\n' <= re.Rune[i+1] {
				return 1, true
			}
		}
		return 0, true
	case syntax.OpAnyChar:
		return 1, true
	case syntax.OpCapture, syntax.OpQuest:
		return maxNewlines(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		n, ok := maxNewlines(re.Sub[0])
		return n, ok && n == 0
	case syntax.OpRepeat:
		n, ok := maxNewlines(re.Sub[0])
		if re.Max < 0 {
			return n, ok && n == 0
		}
		return n * re.Max, ok
	case syntax.OpConcat, syntax.OpAlternate:
		t := 0
		for _, s := range re.Sub {
			n, ok := maxNewlines(s)
			if !ok {
				return 0, false
			}
			if re.Op == syntax.OpConcat {
				t += n
			} else {
				t = max(t, n)
			}
		}
		return t, true
	}
	// Empty-width operators, . without s.
	return 0, true
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// maxWidth is the most bytes a match of re can span.
func maxWidth(re *syntax.Regexp) (int, bool) {
	const inf = 1 << 30
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return 0, true
	case syntax.OpLiteral:
		n := 0
		for _, r := range re.Rune {
			n += runeWidth(r, re.Flags&syntax.FoldCase != 0)
		}
		return n, true
	case syntax.OpCharClass:
		// The fold-hazard runes are left out: texts holding them never
		// reach the windows (hazardRunes), and counting them would make
		// every (?i)[a-z] three bytes wide.
		n := 1
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], min(re.Rune[i+1], unicode.MaxRune)
			for _, h := range []rune{0x212A, 0x017F, 0x0130} {
				if hi == h && lo < h {
					hi--
				} else if lo == h && hi == h {
					hi = 0
				}
			}
			n = max(n, utf8.RuneLen(hi))
		}
		return n, true
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		return utf8.UTFMax, true
	case syntax.OpCapture:
		return maxWidth(re.Sub[0])
	case syntax.OpQuest:
		return maxWidth(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus:
		return inf, false
	case syntax.OpRepeat:
		if re.Max < 0 {
			return inf, false
		}
		n, ok := maxWidth(re.Sub[0])
		return n * re.Max, ok
	case syntax.OpConcat:
		t := 0
		for _, s := range re.Sub {
			n, ok := maxWidth(s)
			if !ok {
				return inf, false
			}
			t += n
		}
		return t, true
	case syntax.OpAlternate:
		t := 0
		for _, s := range re.Sub {
			n, ok := maxWidth(s)
			if !ok {
				return inf, false
			}
			t = max(t, n)
		}
		return t, true
	}
	return inf, false
}

func runeWidth(r rune, fold bool) int {
	n := utf8.RuneLen(r)
	if n < 0 {
		n = 3 // utf8.RuneError
	}
	if fold {
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f != 0x212A && f != 0x017F && f != 0x0130 { // see hazardRunes
				n = max(n, utf8.RuneLen(f))
			}
		}
	}
	return n
}

// requiresKeyword tells whether every string re matches contains one of
// kws (lower-case ASCII) once ASCII-lowercased.
func requiresKeyword(re *syntax.Regexp, kws []string) bool {
	all := func(set []string) bool {
		for _, x := range set {
			if !containsAny(x, kws) {
				return false
			}
		}
		return true
	}
	if set, ok := finite(re); ok {
		return all(set)
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return requiresKeyword(re.Sub[0], kws)
	case syntax.OpRepeat:
		return re.Min >= 1 && requiresKeyword(re.Sub[0], kws)
	case syntax.OpConcat:
		// Runs of children with finite languages: every string of their
		// product must hold a keyword; or some other child requires one.
		run := []string{""}
		for _, s := range re.Sub {
			if set, ok := finite(s); ok {
				if run, ok = product(run, set); ok {
					if all(run) {
						return true
					}
					continue
				}
			}
			run = []string{""}
			if requiresKeyword(s, kws) {
				return true
			}
		}
		return false
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !requiresKeyword(s, kws) {
				return false
			}
		}
		return len(re.Sub) > 0
	}
	return false
}

func containsAny(s string, kws []string) bool {
	for _, k := range kws {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

const maxFinite = 256

// finite is the language of re, ASCII-lowercased, when it is small.
func finite(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText,
		syntax.OpEndText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return []string{""}, true
	case syntax.OpLiteral:
		return []string{asciiLower(string(re.Rune))}, true
	case syntax.OpCharClass:
		var out []string
		seen := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1]-re.Rune[i] > 64 {
				return nil, false
			}
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				x := asciiLower(string(r))
				if !seen[x] {
					seen[x] = true
					out = append(out, x)
				}
			}
		}
		return out, len(out) > 0 && len(out) <= 64
	case syntax.OpCapture:
		return finite(re.Sub[0])
	case syntax.OpQuest:
		set, ok := finite(re.Sub[0])
		return append([]string{""}, set...), ok && len(set) < maxFinite
	case syntax.OpRepeat:
		if re.Max < 0 || re.Max > 4 {
			return nil, false
		}
		set, ok := finite(re.Sub[0])
		if !ok {
			return nil, false
		}
		var out []string
		cur := []string{""}
		for n := 0; n <= re.Max; n++ {
			if n >= re.Min {
				out = append(out, cur...)
			}
			if cur, ok = product(cur, set); !ok {
				return nil, false
			}
		}
		return out, len(out) <= maxFinite
	case syntax.OpConcat:
		cur := []string{""}
		for _, s := range re.Sub {
			set, ok := finite(s)
			if !ok {
				return nil, false
			}
			if cur, ok = product(cur, set); !ok {
				return nil, false
			}
		}
		return cur, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			set, ok := finite(s)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, len(out) <= maxFinite
	}
	return nil, false
}

func product(a, b []string) ([]string, bool) {
	if len(a)*len(b) > maxFinite {
		return nil, false
	}
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out, true
}

// detect returns exactly what w.full.Detect(frag) returns (up to order),
// less the findings of path-only rules (which Scan drops).
func (w *windowed) detect(frag fragment) []report.Finding {
	raw := frag.Raw
	if raw == "" {
		return w.full.Detect(frag)
	}
	hp := hitPool.Get().(*[]kwHit)
	hits, hazard := w.kw.match(raw, (*hp)[:0])
	defer func() { *hp = hits; hitPool.Put(hp) }()
	if hazard || w.decode && w.decodedMayFind(raw) {
		return w.full.Detect(frag)
	}

	var out []report.Finding
	restHit := w.restAlways
	var restMask uint64 // the rest rules with a keyword hit (when < 64)
	spans := spanPool.Get().(*[][]span)
	per := *spans
	if len(per) < len(w.win) {
		per = make([][]span, len(w.win))
	}
	var used []int
	lx := newLineIndex(raw)
	defer lx.release()
	for _, m := range hits {
		p := int(m.pat)
		if w.kwRest[p] {
			restHit = true
			for _, ri := range w.kwRestRules[p] {
				restMask |= 1 << (ri & 63)
			}
		}
		pos := int(m.pos)
		for _, ri := range w.kwWin[p] {
			wr := &w.win[ri]
			if wr.filter != nil && !wr.filter(raw, pos, pos+w.kwLen[p]) {
				continue
			}
			s := span{max(0, pos-wr.radius), min(len(raw), pos+w.kwLen[p]+wr.radius)}
			if n := wr.lines; n > 0 {
				s = lx.lineSpan(pos, wr.before, n, s)
			}
			if len(per[ri]) == 0 {
				used = append(used, ri)
			}
			per[ri] = append(per[ri], s)
		}
	}
	switch {
	case !restHit:
	case w.restAlways || w.restOpaque || len(w.restRules) > 64 || !speedups.restAlone:
		out = append(out, w.rest.Detect(frag)...)
	default:
		// Each rule with a keyword hit runs alone, and only when its regex
		// matches somewhere: gitleaks' Detect of a whole fragment lowercases
		// and keyword-scans all of it first, for nothing most of the time.
		for ri := range w.restRules {
			rr := &w.restRules[ri]
			if restMask&(1<<ri) != 0 && (rr.filter == nil || rr.filter(raw)) && rr.rule.Regex.MatchString(raw) {
				out = append(out, rr.det.Detect(frag)...)
			}
		}
	}
	slices.Sort(used)
	for _, ri := range used {
		re := w.win[ri].rule.Regex
		for _, s := range lx.mergeLines(per[ri]) {
			// gitleaks' Detect of a window (lowercasing, keyword scan,
			// allowlist paths, then the regex) finds nothing unless the
			// rule's regex matches in it: most windows stop here.
			if speedups.windowRegexFirst && !re.MatchString(raw[s.a:s.b]) {
				continue
			}
			if s.a == 0 && s.b == len(raw) {
				out = append(out, w.win[ri].det.Detect(frag)...)
				continue
			}
			sub := frag
			sub.Raw = raw[s.a:s.b]
			sub.StartLine = frag.StartLine + lx.lineOf(s.a)
			out = append(out, w.win[ri].det.Detect(sub)...)
		}
		per[ri] = per[ri][:0]
	}
	*spans = per
	spanPool.Put(spans)
	return filterGeneric(out)
}

// decodedMayFind tells whether gitleaks' decoding passes over raw could
// report anything. gitleaks reports, in decoding pass k, only matches of a
// rule over the pass's text that overlap a segment decoded in that pass
// (detectRule skips the others), and runs a rule only when one of its
// keywords occurs in that text. So a pass reports nothing when no such
// match exists: for the rules that are not windowable, their regex over
// the whole decoded text; for a windowable rule, its regex over its
// windows around its own keyword hits (which hold every match, as above),
// and only windows that reach a decoded segment. Each pass is decoded with
// nativeDecode (gitleaks' decoder in Go, decode.go) or, where it declines,
// with gitleaks' own decoder; the next pass is checked in turn.
func (w *windowed) decodedMayFind(raw string) bool {
	if !speedups.nativeDecode {
		return w.decodedMayFindCodec(raw)
	}
	text := raw
	for depth := 1; depth <= w.full.MaxDecodeDepth; depth++ {
		next, spans, ok := nativeDecode(text, nil)
		if !ok {
			return w.decodedMayFindCodec(raw)
		}
		if len(spans) == 0 {
			return false
		}
		if w.passMayFind(next, func(a, b int) bool { return spansOverlap(spans, a, b) }) {
			return true
		}
		text = next
	}
	return false
}

// decodedMayFindCodec is decodedMayFind with gitleaks' own decoder.
func (w *windowed) decodedMayFindCodec(raw string) bool {
	dec := codec.NewDecoder()
	text, segs := raw, []*codec.EncodedSegment{}
	for depth := 1; depth <= w.full.MaxDecodeDepth; depth++ {
		if text, segs = dec.Decode(text, segs); len(segs) == 0 {
			return false
		}
		if w.passMayFind(text, func(a, b int) bool { return len(codec.SegmentsWithDecodedOverlap(segs, a, b)) > 0 }) {
			return true
		}
	}
	return false
}

// spansOverlap is codec's overlap test (end points included) against
// sorted, disjoint spans.
func spansOverlap(spans []span, a, b int) bool {
	i := sort.Search(len(spans), func(i int) bool { return spans[i].b >= a })
	return i < len(spans) && spans[i].a <= b
}

// passMayFind tells whether some rule could report a match in text (a
// decoding pass's text) that overlaps a decoded segment (overlap).
//
// A text with fold-hazard runes (hazardRunes) is checked too, not given up
// on: gitleaks runs the rules whose keywords occur in strings.ToLower(text)
// (the hazards can make keywords there), and a match of such a rule that
// holds none of its keywords in ASCII holds a hazard rune (the keyword
// analysis is exact but for the case folding of those runes), so windows
// around the hazard runes, as well as around the ASCII hits, hold every
// match. Hazard runes are two or three bytes where the analysis counted
// one, so width-bounded windows reach three times as far; the hit and
// fragment filters, written for ASCII, are not used.
func (w *windowed) passMayFind(text string, overlap func(a, b int) bool) bool {
	if w.restAlways {
		return true
	}
	hits, hazard := w.kw.match(text, nil)
	lx := newLineIndex(text)
	defer lx.release()
	var restHit map[int]bool
	var per map[int][]span
	addRest := func(ri int) bool {
		if w.restRules[ri].opaque {
			return false
		}
		if restHit == nil {
			restHit = map[int]bool{}
		}
		restHit[ri] = true
		return true
	}
	addWin := func(ri, pos, n int) {
		wr := &w.win[ri]
		if !hazard && wr.filter != nil && !wr.filter(text, pos, pos+n) {
			return
		}
		radius := wr.radius
		if hazard && wr.lines == 0 {
			radius = 3*(wr.radius-windowMargin) + windowMargin
		}
		sp := span{max(0, pos-radius), min(len(text), pos+n+radius)}
		if wr.lines > 0 {
			sp = lx.lineSpan(pos, wr.before, wr.lines, sp)
		}
		if !overlap(sp.a, sp.b) {
			return
		}
		if per == nil {
			per = map[int][]span{}
		}
		per[ri] = append(per[ri], sp)
	}
	for _, m := range hits {
		p := int(m.pat)
		for _, ri := range w.kwRestRules[p] {
			if !addRest(ri) {
				return true
			}
		}
		for _, ri := range w.kwWin[p] {
			addWin(ri, int(m.pos), w.kwLen[p])
		}
	}
	if hazard {
		seen, _ := w.kw.match(strings.ToLower(text), nil)
		runs := map[int]bool{}
		for _, m := range seen {
			runs[int(m.pat)] = true
		}
		at := hazardRunes(text)
		for p := range runs {
			for _, ri := range w.kwRestRules[p] {
				if !addRest(ri) {
					return true
				}
			}
			for _, ri := range w.kwWin[p] {
				for _, h := range at {
					addWin(ri, h.a, h.b-h.a)
				}
			}
		}
	}
	for ri := range restHit {
		if f := w.restRules[ri].filter; f != nil && !hazard && !f(text) {
			continue
		}
		for _, m := range w.restRules[ri].rule.Regex.FindAllStringIndex(text, -1) {
			if overlap(m[0], m[1]) {
				return true
			}
		}
	}
	for ri, spans := range per {
		re := w.win[ri].rule.Regex
		for _, s := range lx.mergeLines(spans) {
			for _, m := range re.FindAllStringIndex(text[s.a:s.b], -1) {
				if overlap(s.a+m[0], s.a+m[1]) {
					return true
				}
			}
		}
	}
	return false
}

// hazardRunes are the spans in t of the fold-hazard runes: runes whose
// case folding or lowering crosses into ASCII letters (U+212A KELVIN SIGN,
// U+017F LATIN SMALL LETTER LONG S, U+0130 LATIN CAPITAL LETTER I WITH DOT
// ABOVE), in UTF-8. The keyword matcher notes them in its own pass.
func hazardRunes(t string) []span {
	var out []span
	for i := 0; i+1 < len(t); i++ {
		switch {
		case t[i] == 0xC5 && t[i+1] == 0xBF, t[i] == 0xC4 && t[i+1] == 0xB0:
			out = append(out, span{i, i + 2})
		case t[i] == 0xE2 && t[i+1] == 0x84 && i+2 < len(t) && t[i+2] == 0xAA:
			out = append(out, span{i, i + 3})
		}
	}
	return out
}

// speedups switches the engine's speed-ups, each of which keeps the findings
// the same: all on, except in BenchmarkSpeedups, which measures what each
// buys (docs/benchmarks.md).
var speedups = struct {
	hitFilters       bool // hitfilter.go
	nativeDecode     bool // decode.go; off: gitleaks' decoder in the decode check
	windowRegexFirst bool // a window's regex before gitleaks' Detect of it
	restAlone        bool // rest rules one by one, behind their regex
}{true, true, true, true}

var spanPool = sync.Pool{New: func() any { return new([][]span) }}

// lineIndex holds the offsets of the newlines of a text, for the line
// arithmetic of windows (TestLineIndex checks it against plain string
// scans).
type lineIndex struct {
	raw string
	nl  *[]int
}

var nlPool = sync.Pool{New: func() any { return new([]int) }}

func newLineIndex(raw string) lineIndex {
	nl := nlPool.Get().(*[]int)
	*nl = (*nl)[:0]
	for i := 0; ; {
		j := strings.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		*nl = append(*nl, i+j)
		i += j + 1
	}
	return lineIndex{raw, nl}
}

func (lx lineIndex) release() { nlPool.Put(lx.nl) }

// lineOf is the number of newlines before offset at.
func (lx lineIndex) lineOf(at int) int {
	n, _ := slices.BinarySearch(*lx.nl, at)
	return n
}

// startOf is the start of the line holding byte x (0 <= x <= len).
func (lx lineIndex) startOf(x int) int {
	if k := lx.lineOf(x); k > 0 {
		return (*lx.nl)[k-1] + 1
	}
	return 0
}

// endFrom is the offset after the first newline at or after x, or the
// text's length.
func (lx lineIndex) endFrom(x int) int {
	if k := lx.lineOf(x); k < len(*lx.nl) {
		return (*lx.nl)[k] + 1
	}
	return len(lx.raw)
}

// lineSpan widens s to before whole lines before the line of pos and n
// whole lines after it.
func (lx lineIndex) lineSpan(pos, before, n int, s span) span {
	a := pos
	for i := 0; i <= before && a > 0; i++ {
		a = lx.startOf(a - 1)
	}
	b := pos
	for i := 0; i <= n && b < len(lx.raw); i++ {
		b = lx.endFrom(b)
	}
	return span{min(s.a, a), max(s.b, b)}
}

// mergeLines snaps spans (in hit order) to whole lines and merges the
// overlapping ones, in place.
func (lx lineIndex) mergeLines(spans []span) []span {
	slices.SortFunc(spans, func(x, y span) int { return x.a - y.a })
	merged := spans[:0]
	for _, s := range spans {
		s.a = lx.startOf(s.a)
		if s.b > 0 && lx.raw[s.b-1] != '\n' {
			s.b = lx.endFrom(s.b)
		}
		if n := len(merged); n > 0 && s.a <= merged[n-1].b {
			merged[n-1].b = max(merged[n-1].b, s.b)
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// filterGeneric is gitleaks' filter (detect/utils.go) applied to the union
// of the parts' findings: a generic rule's finding is dropped when a
// non-generic rule found a secret containing it on the same line.
func filterGeneric(fs []report.Finding) []report.Finding {
	if len(fs) < 2 {
		return fs
	}
	var out []report.Finding
	for _, f := range fs {
		include := true
		if strings.Contains(strings.ToLower(f.RuleID), "generic") {
			for _, g := range fs {
				if f.StartLine == g.StartLine && f.Commit == g.Commit && f.RuleID != g.RuleID &&
					strings.Contains(g.Secret, f.Secret) && !strings.Contains(strings.ToLower(g.RuleID), "generic") {
					include = false
					break
				}
			}
		}
		if include {
			out = append(out, f)
		}
	}
	return out
}
