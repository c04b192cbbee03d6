package ebstest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
)

// throttleBody is EC2's answer when a request bucket is empty.
const throttleBody = `<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>x</RequestID></Response>`

// NewThrottleProxy starts a loopback HTTP server in front of target (an EC2
// endpoint such as moto's URL) that answers the first failFirst[action]
// requests of each EC2 Action with HTTP 503 RequestLimitExceeded, as EC2
// does, and forwards everything else unchanged. Point an SDK client's
// BaseEndpoint at its URL to exercise the SDK's retryer against real
// throttles. The caller closes the server. Like httptest.NewServer, it
// panics when it cannot start (here also on a target that is not a URL).
func NewThrottleProxy(target string, failFirst map[string]int) *httptest.Server {
	var mu sync.Mutex
	left := make(map[string]int, len(failFirst))
	for action, n := range failFirst {
		left[action] = n
	}
	return NewFaultProxy(target, func(action string, _ url.Values) (int, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if left[action] <= 0 {
			return 0, "", false
		}
		left[action]--
		return http.StatusServiceUnavailable, throttleBody, true
	})
}

// NewFaultProxy starts a loopback HTTP server in front of target that asks
// fault about every EC2 request (its Action and whole query-protocol form):
// when fault says ok, the proxy answers with that HTTP status and XML body
// (an EC2 error response) instead of forwarding. Everything else reaches
// target unchanged. It stages answers the emulator cannot give, such as
// EC2 rejecting a filter. The caller closes the server; like
// httptest.NewServer, it panics when it cannot start.
func NewFaultProxy(target string, fault func(action string, form url.Values) (status int, body string, ok bool)) *httptest.Server {
	u, err := url.Parse(target)
	if err != nil {
		panic("ebstest: fault proxy target: " + err.Error())
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// EC2's query protocol names the operation in the form body; read
		// it, then hand the same bytes on.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		if status, answer, ok := fault(form.Get("Action"), form); ok {
			w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, answer)
			return
		}
		forward.ServeHTTP(w, r)
	}))
}
