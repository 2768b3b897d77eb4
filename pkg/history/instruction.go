package history

import (
	"regexp"
	"strconv"
	"strings"
)

// Arg is a build argument recorded in a RUN step's history.
type Arg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

var (
	// A shell invocation that starts a RUN: /bin/sh -c, /bin/bash -o pipefail -c, cmd /S /C.
	shellPrefix = regexp.MustCompile(`^(?:(?:/usr)?/bin/)?(?:ba|da|a|z)?sh(?: -[a-zA-Z]+(?: [a-z]+)?)* -c(?: |$)|^cmd /S /C `)
	argName     = regexp.MustCompile(`(?:^| )([A-Za-z_][A-Za-z0-9_]*)=`)
	nopPrefix   = regexp.MustCompile(`^#\(nop\)\s*`)
	// Legacy COPY/ADD: "COPY file:<sha> in /dest".
	legacyCopy = regexp.MustCompile(`^((?:COPY|ADD)(?: --[a-z]+=\S+)* \S+(?: \S+)*?) in (.*)$`)
)

// Normalize turns a history created_by into a readable instruction and the
// build arguments it recorded:
//
//	/bin/sh -c #(nop) COPY file:ab12 in /app/   → COPY file:ab12 /app/
//	|1 TOKEN=x /bin/sh -c make                   → RUN make   (TOKEN=x apart)
//	RUN /bin/sh -c rm /node # buildkit           → RUN rm /node
//	/bin/sh -c #(nop)  ENV A=b                   → ENV A=b
func Normalize(createdBy string) (string, []Arg) {
	s := strings.TrimSpace(createdBy)
	if s == "" {
		return "", nil
	}
	s = strings.TrimSpace(strings.TrimSuffix(s, "# buildkit"))
	run := false
	if rest, ok := strings.CutPrefix(s, "RUN "); ok {
		run, s = true, strings.TrimSpace(rest)
	}
	var args []Arg
	if strings.HasPrefix(s, "|") {
		args, s = splitArgs(s)
		run = true
	}
	if loc := shellPrefix.FindStringIndex(s); loc != nil {
		body := strings.TrimSpace(s[loc[1]:])
		if m := nopPrefix.FindStringIndex(body); m != nil {
			return legacyInstruction(strings.TrimSpace(body[m[1]:])), args
		}
		return "RUN " + body, args
	}
	if m := nopPrefix.FindStringIndex(s); m != nil {
		return legacyInstruction(strings.TrimSpace(s[m[1]:])), args
	}
	if run {
		return "RUN " + s, args
	}
	return s, args
}

// legacyInstruction rewrites "COPY file:x in /dest" as "COPY file:x /dest".
func legacyInstruction(s string) string {
	if m := legacyCopy.FindStringSubmatch(s); m != nil {
		return m[1] + " " + strings.TrimSpace(m[2])
	}
	return s
}

// splitArgs parses "|N A=1 B=two words /bin/sh -c …" into N arguments and
// the rest. Values may hold spaces; names are found by NAME= boundaries.
func splitArgs(s string) ([]Arg, string) {
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return nil, s
	}
	n, err := strconv.Atoi(s[1:sp])
	if err != nil || n < 0 {
		return nil, s
	}
	rest := s[sp+1:]
	if n == 0 {
		return nil, rest
	}
	// The arguments end where the command begins.
	end := len(rest)
	if loc := shellPrefixAnywhere(rest); loc >= 0 {
		end = loc
	}
	argText := strings.TrimSpace(rest[:end])
	cmd := strings.TrimSpace(rest[end:])
	idx := argName.FindAllStringSubmatchIndex(argText, -1)
	var args []Arg
	for i, m := range idx {
		valEnd := len(argText)
		if i+1 < len(idx) {
			valEnd = idx[i+1][0]
		}
		args = append(args, Arg{Name: argText[m[2]:m[3]], Value: strings.TrimSpace(argText[m[1]:valEnd])})
	}
	if end == len(rest) && len(args) > n {
		// No shell found: the first n name=value tokens are the arguments.
		fields := strings.Fields(rest)
		if len(fields) >= n {
			args = args[:0]
			for _, f := range fields[:n] {
				name, val, _ := strings.Cut(f, "=")
				args = append(args, Arg{Name: name, Value: val})
			}
			cmd = strings.Join(fields[n:], " ")
		}
	}
	return args, cmd
}

func shellPrefixAnywhere(s string) int {
	for i := 0; i < len(s); i++ {
		if i > 0 && s[i-1] != ' ' {
			continue
		}
		if shellPrefix.MatchString(s[i:]) {
			return i
		}
	}
	return -1
}
