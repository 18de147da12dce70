// Command goclient is the Go HTTPS client the monitor's tests observe: a GET and then a POST of
// -post-bytes bytes to one URL, certificate checks off because it talks to a local self-signed
// server. It prints both status codes and exits 0 only if both requests got a response.
package main

import (
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	postBytes := flag.Int("post-bytes", 0, "size of the POST body in bytes")
	flag.Parse()
	if flag.NArg() != 1 || *postBytes < 0 {
		fmt.Fprintln(os.Stderr, "usage: goclient [-post-bytes N] URL")
		os.Exit(2)
	}
	url := flag.Arg(0)

	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			// The test server uses a throwaway self-signed certificate.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
			// HTTP/1.1 keeps the captured plaintext readable by the HTTP/1 parser.
			ForceAttemptHTTP2: false,
			TLSNextProto:      map[string]func(string, *tls.Conn) http.RoundTripper{},
		},
	}

	if err := run(client, http.MethodGet, url, nil); err != nil {
		fmt.Fprintln(os.Stderr, "GET:", err)
		os.Exit(1)
	}
	body := bytes.Repeat([]byte("a"), *postBytes)
	if err := run(client, http.MethodPost, url, body); err != nil {
		fmt.Fprintln(os.Stderr, "POST:", err)
		os.Exit(1)
	}
}

// run sends one request, drains the response and prints its status code.
func run(client *http.Client, method, url string, body []byte) error {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	fmt.Printf("%s %d\n", method, resp.StatusCode)
	return nil
}
