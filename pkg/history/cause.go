package history

import (
	"path"
	"regexp"
	"strings"
)

// Cause is why a secret leaked into an image.
type Cause string

// Causes, in the order Classify tries them (the first that applies wins).
const (
	// InheritedFromBase: the layer or history entry belongs to the base
	// image. Only the base image's maintainers can remove it.
	InheritedFromBase Cause = "inherited-from-base-image"
	// RemovedInLaterLayer: a later layer deleted the file (whiteout); the
	// bytes stay in the layer that added them.
	RemovedInLaterLayer Cause = "removed-in-later-layer"
	// OverwrittenInLaterLayer: a later layer replaced the file; the
	// original bytes stay in the layer that added them.
	OverwrittenInLaterLayer Cause = "overwritten-in-later-layer"
	// VCSMetadata: a file under a .git directory (config with a remote URL
	// holding a token, packed objects) was copied in.
	VCSMetadata Cause = "vcs-metadata"
	// ShellHistory: a shell history file (.ash_history, .bash_history, …).
	ShellHistory Cause = "shell-history"
	// CredentialStore: a credential file a login or package tool writes
	// (docker/podman login, .npmrc, .pypirc, .git-credentials, .netrc).
	CredentialStore Cause = "credential-store"
	// SecretMountPersisted: a RUN that mounted a build secret (or read
	// /run/secrets/…) wrote it into its layer.
	SecretMountPersisted Cause = "secret-mount-persisted"
	// CopiedIntoImage: a COPY or ADD brought the file in.
	CopiedIntoImage Cause = "copied-into-image"
	// WrittenByRun: a RUN (or a step the history does not name) wrote the
	// file, with no secret mount involved.
	WrittenByRun Cause = "written-by-build-step"
	// BuildArgInHistory: a build argument's value, recorded by a RUN as
	// |N NAME=value in the history.
	BuildArgInHistory Cause = "build-arg-in-history"
	// EnvInConfig: an ENV value, in the config's Env and the history.
	EnvInConfig Cause = "env-in-config"
	// LabelInConfig: a LABEL value, in the config's Labels and the history.
	LabelInConfig Cause = "label-in-config"
	// CommandInHistory: a secret typed into an instruction (a RUN line,
	// say), recorded in the history.
	CommandInHistory Cause = "command-in-history"
	// CommandInConfig: a secret in the config's Cmd, Entrypoint or User.
	CommandInConfig Cause = "command-in-config"
)

// Causes lists every cause, in precedence order.
var Causes = []Cause{InheritedFromBase, RemovedInLaterLayer, OverwrittenInLaterLayer, VCSMetadata,
	ShellHistory, CredentialStore, SecretMountPersisted, CopiedIntoImage, WrittenByRun,
	BuildArgInHistory, EnvInConfig, LabelInConfig, CommandInHistory, CommandInConfig}

var remediations = map[Cause]string{
	InheritedFromBase:       "The secret is in the base image, not in your build steps: have the base image's maintainers rotate it and rebuild the base, or build FROM a base image that does not hold it.",
	RemovedInLaterLayer:     "Rotate the secret: a later rm only hides the file, so never put it in a layer at all (use RUN --mount=type=secret) or delete it in the same RUN that created it.",
	OverwrittenInLaterLayer: "Rotate the secret: overwriting the file in a later layer leaves the original bytes in the earlier one, so keep the secret out of every layer (RUN --mount=type=secret).",
	VCSMetadata:             "Rotate the token and add .git to .dockerignore (or copy only build outputs), so that repository metadata with remote URLs and credentials stays out of the image.",
	ShellHistory:            "Rotate the secret and delete the shell history in the same step that wrote it (or set HISTFILE=/dev/null); never commit a container that ran an interactive shell.",
	CredentialStore:         "Rotate the credential and log out or delete the credential file (docker logout, rm ~/.npmrc …) in the same RUN that logged in, with the credential from RUN --mount=type=secret.",
	SecretMountPersisted:    "Rotate the secret: the RUN copied the mounted secret into a file of its layer; read it from /run/secrets/… where it is used, or delete the copy in the same RUN.",
	CopiedIntoImage:         "Rotate the secret and stop copying it in: exclude it in .dockerignore and pass it with RUN --mount=type=secret (or at run time) instead of COPY/ADD.",
	WrittenByRun:            "Rotate the secret and do not write it to disk in a RUN; if a tool needs it as a file, mount it with RUN --mount=type=secret and delete any copy in the same RUN.",
	BuildArgInHistory:       "Rotate the secret: build arguments used by a RUN are recorded in the image history in clear text, so pass secrets with RUN --mount=type=secret instead of ARG/--build-arg.",
	EnvInConfig:             "Rotate the secret: ENV values are stored in the image config and history, so give secrets to the container at run time (environment, mounted file) instead.",
	LabelInConfig:           "Rotate the secret and remove it from LABEL: labels are stored in the image config for anyone who pulls the image.",
	CommandInHistory:        "Rotate the secret: instruction text is recorded in the image history, so never type credentials into a Dockerfile line; use RUN --mount=type=secret.",
	CommandInConfig:         "Rotate the secret and take it out of CMD/ENTRYPOINT/USER: the image config is readable by anyone who pulls the image; pass it at run time.",
}

// Remediation is the one-sentence fix for a cause. For
// InheritedFromBase, base names the base image when known.
func Remediation(c Cause, base *Base) string {
	if c == InheritedFromBase && base != nil && (base.Name != "" || base.Digest != "") {
		return "The secret is in the base image " + base.Label() + ", not in your build steps: have its maintainers rotate the secret and rebuild it, or build FROM a base image that does not hold it."
	}
	return remediations[c]
}

// Facts is what Classify needs to know of a finding: its own data.
type Facts struct {
	// Source is "file", "config" or "history".
	Source string
	// Path is the file's path (file findings).
	Path string
	// Status is present, deleted or overwritten.
	Status Status
	// Instruction is the normalized instruction of the step that made the
	// finding's layer (file findings) or of its history entry (history
	// findings).
	Instruction string
	// CreatedBy is that step's created_by as recorded (the --mount flags
	// and build arguments are in it).
	CreatedBy string
	// Field is the config field of a config finding ("Env API_KEY").
	Field string
	// InBase: the finding's layer or history entry belongs to the base.
	InBase bool
	// InBuildArg: a history finding whose secret is in a recorded build
	// argument's value.
	InBuildArg bool
}

var (
	secretMount = regexp.MustCompile(`--mount=(?:[^ ]*,)?type=secret\b|/run/secrets/`)
	// Credential stores, by the path's end.
	credentialSuffixes = []string{
		"/.docker/config.json", "/containers/auth.json", "/.npmrc", "/.pypirc",
		"/.git-credentials", "/.netrc", "/_netrc", "/.yarnrc.yml", "/.config/gh/hosts.yml",
		"/.composer/auth.json", "/.gem/credentials", "/.m2/settings.xml", "/.cargo/credentials.toml",
		"/.cargo/credentials", "/.aws/credentials", "/.kube/config", "/.pip/pip.conf", "/pip.conf",
	}
	historyFiles = map[string]bool{
		".ash_history": true, ".bash_history": true, ".zsh_history": true, ".sh_history": true,
		".history": true, ".python_history": true, ".mysql_history": true, ".psql_history": true,
		".sqlite_history": true, ".node_repl_history": true, ".rediscli_history": true, ".lesshst": true,
	}
)

// Classify says why a finding leaked, from its own data. Precedence: the
// base image first (only its maintainers can fix it), then the file's fate
// (a deleted or overwritten file is the surprise to explain), then what
// the file is (VCS metadata, shell history, a credential store), then how
// it got there (a secret mount copied out, a COPY/ADD, another step); for
// history and config findings, what recorded them (a build argument, ENV,
// LABEL, the instruction text, CMD/ENTRYPOINT/USER).
func Classify(f Facts) Cause {
	if f.InBase {
		return InheritedFromBase
	}
	switch f.Source {
	case "config":
		switch {
		case strings.HasPrefix(f.Field, "Env "):
			return EnvInConfig
		case strings.HasPrefix(f.Field, "Labels "):
			return LabelInConfig
		}
		return CommandInConfig
	case "history":
		switch {
		case f.InBuildArg:
			return BuildArgInHistory
		case firstWord(f.Instruction) == "ENV":
			return EnvInConfig
		case firstWord(f.Instruction) == "LABEL":
			return LabelInConfig
		}
		return CommandInHistory
	}
	switch f.Status {
	case Deleted:
		return RemovedInLaterLayer
	case Overwritten:
		return OverwrittenInLaterLayer
	}
	p := "/" + strings.TrimLeft(f.Path, "/")
	switch {
	case strings.Contains(p, "/.git/"):
		return VCSMetadata
	case historyFiles[path.Base(p)]:
		return ShellHistory
	}
	word := firstWord(f.Instruction)
	// A credential file written by a step (a login, a package tool's
	// config); one copied in is a copied file like any other.
	if isCredentialStore(p) && word != "COPY" && word != "ADD" {
		return CredentialStore
	}
	if word == "RUN" && (secretMount.MatchString(f.CreatedBy) || secretMount.MatchString(f.Instruction)) {
		return SecretMountPersisted
	}
	if word == "COPY" || word == "ADD" {
		return CopiedIntoImage
	}
	return WrittenByRun
}

func isCredentialStore(p string) bool {
	for _, s := range credentialSuffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}
