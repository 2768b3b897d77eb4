package main

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/layerscan/layerscan/pkg/store"
)

type ioReadCloser = io.ReadCloser

type nopCloser struct{ io.Reader }

func (nopCloser) Close() error { return nil }

// storeAt migrates db to version v only (an older layerscan's database).
func storeAt(t *testing.T, db *sql.DB, v int) (*store.SQL, error) {
	t.Helper()
	s, err := store.NewSQLAt(t.Context(), db, store.SQLite, v)
	return s, err
}

// runCLIKilled runs layerscan sweep with --log-format json and kills it
// (SIGKILL) once it has logged after layers scanned without error: each is
// logged after its result is committed to the store. killed says whether
// it was still running then.
func runCLIKilled(t *testing.T, env []string, after int, args ...string) (res result, killed bool) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(binPath, append(args, "--log-format", "json")...)
	cmd.Env = append(append(os.Environ(), "HOME="+home, "DOCKER_CONFIG="+home, "NO_COLOR=1"), env...)
	var so, se bytes.Buffer
	cmd.Stdout = &so
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		se.Write(sc.Bytes())
		se.WriteByte('\n')
		var ev struct{ Msg, Error string }
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Msg == "layer scanned" && ev.Error == "" {
			if n++; n == after && !killed {
				killed = cmd.Process.Kill() == nil
			}
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	}
	res.stdout, res.stderr = so.String(), se.String()
	return res, killed
}
