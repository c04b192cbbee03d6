package motoserver

import (
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
)

// python returns the interpreter with moto, skipping like Require does.
func python(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("emulator test: skipped under -short")
	}
	py, err := findPython()
	if err != nil {
		skipWithout(t, err)
	}
	return py
}

// TestStartSkipsAPortAnotherServerHolds plays the race between two test
// binaries: the port picked first is already served by someone else (here
// an HTTP server that answers every probe, as another package's moto
// would). Start must not take that server for its own, and must retry on
// another port.
func TestStartSkipsAPortAnotherServerHolds(t *testing.T) {
	py := python(t)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer other.Close()
	taken := other.Listener.Addr().(*net.TCPAddr).Port
	var picks int
	s, err := start(py, func() (int, error) {
		picks++
		if picks == 1 {
			return taken, nil
		}
		return freePort()
	}, startAttempts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if s.URL == other.URL {
		t.Fatalf("Start took %s, which another server holds, for its own", s.URL)
	}
	if picks != 2 {
		t.Errorf("picked %d ports, want 2 (the taken one, then a free one)", picks)
	}
	if err := s.Reset(); err != nil {
		t.Errorf("the server Start returned does not answer: %v", err)
	}
}

// TestStartGivesUpOnAPortThatStaysTaken checks the retry is bounded and
// says why it stopped.
func TestStartGivesUpOnAPortThatStaysTaken(t *testing.T) {
	py := python(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var picks int
	_, err = start(py, func() (int, error) { picks++; return l.Addr().(*net.TCPAddr).Port, nil }, 2)
	if err == nil || !strings.Contains(err.Error(), "port taken") || picks != 2 {
		t.Errorf("after %d picks: %v; want 2 picks and a port-taken error", picks, err)
	}
}

// TestErrReportsADeadServer kills moto under a running server and checks
// that Err, which Require consults before every test, notices and quotes
// moto's log.
func TestErrReportsADeadServer(t *testing.T) {
	py := python(t)
	s, err := start(py, freePort, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	if err := s.Err(); err != nil {
		t.Fatalf("Err of a running server: %v", err)
	}
	if err := syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	err = s.Err()
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "Running on "+s.URL) {
		t.Errorf("Err of a killed server = %v, want it to say moto exited and quote its log", err)
	}
}

// TestRequireSkipsUnderShortEvenInCI checks that -short is honoured as a
// request for no emulator, also where CI=true makes a missing emulator a
// failure.
func TestRequireSkipsUnderShortEvenInCI(t *testing.T) {
	was := flag.Lookup("test.short").Value.String()
	if err := flag.Set("test.short", "true"); err != nil {
		t.Fatal(err)
	}
	defer flag.Set("test.short", was)
	t.Setenv("CI", "true")
	var reached bool
	t.Run("emulator test", func(t *testing.T) {
		Require(t)
		reached = true
	})
	if reached {
		t.Error("Require returned under -short")
	}
}
