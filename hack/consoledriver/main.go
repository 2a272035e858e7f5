// consoledriver gives a command through golive's console as a person would
// in a browser: it opens the console, follows it to the OIDC provider's
// login page, logs in, opens the request's page and posts its form with the
// CSRF token (test/consolebrowser, as the end-to-end test does). The demo
// (hack/demo.sh) makes bob's and carol's approvals with it.
//
//	consoledriver --console http://127.0.0.1:18090 --issuer https://127.0.0.1:18443 \
//	  --issuer-ca-file ca.crt --user bob@example.com --password-file password \
//	  --request billing/billing-2-4-0 --action approve --role rnd-lead --comment "staging looks good"
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/golive-dev/golive/test/consolebrowser"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "consoledriver:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	flags := flag.NewFlagSet("consoledriver", flag.ContinueOnError)
	var consoleURL, issuer, caFile, user, passwordFile, request, action, role, comment string
	var timeout time.Duration
	flags.StringVar(&consoleURL, "console", "http://127.0.0.1:8080", "The console's URL.")
	flags.StringVar(&issuer, "issuer", "", "The OIDC provider's URL.")
	flags.StringVar(&caFile, "issuer-ca-file", "", "The provider's PEM CA.")
	flags.StringVar(&user, "user", "", "Who logs in.")
	flags.StringVar(&passwordFile, "password-file", "", "File holding their password.")
	flags.StringVar(&request, "request", "", "The request, <namespace>/<name>.")
	flags.StringVar(&action, "action", "approve", "The command: approve, reject, accept, go or abort.")
	flags.StringVar(&role, "role", "", "The role approved as.")
	flags.StringVar(&comment, "comment", "", "The comment.")
	flags.DurationVar(&timeout, "timeout", 2*time.Minute, "How long to keep trying to log in (the API server loads the provider's keys after it starts).")
	if err := flags.Parse(args); err != nil {
		return err
	}
	namespace, name, ok := strings.Cut(request, "/")
	if !ok || issuer == "" || caFile == "" || user == "" || passwordFile == "" {
		return errors.New("--issuer, --issuer-ca-file, --user, --password-file and --request <namespace>/<name> are required")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	password, err := os.ReadFile(passwordFile)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	browser, err := login(ctx, consoleURL, issuer, roots, user, strings.TrimSpace(string(password)))
	if err != nil {
		return err
	}
	fields := url.Values{"comment": {comment}}
	if role != "" {
		fields.Set("role", role)
	}
	page, err := browser.Command(ctx, consoleURL+"/requests/"+namespace+"/"+name, action, fields)
	if err != nil {
		return err
	}
	if recorded := element(page.Body, "recorded"); page.Status == http.StatusOK && recorded != "" {
		fmt.Println(recorded)
		return nil
	}
	if refusal := element(page.Body, "refusal"); refusal != "" {
		return fmt.Errorf("the console refused %s's %s (status %d): %s", user, action, page.Status, refusal)
	}
	return fmt.Errorf("the console did not confirm %s's %s (status %d)", user, action, page.Status)
}

// login logs user in, trying again until the console greets them: until the
// API server has loaded the provider's keys, it cannot tell who they are.
func login(ctx context.Context, consoleURL, issuer string, roots *x509.CertPool, user, password string) (*consolebrowser.Browser, error) {
	for {
		browser := consolebrowser.New(issuer, roots)
		page, err := browser.Login(ctx, consoleURL, user, password)
		if err == nil && page.Status == http.StatusOK && strings.Contains(page.Body, `id="user">`+user+`<`) {
			return browser, nil
		}
		if err == nil {
			err = fmt.Errorf("%s answered %d", page.URL, page.Status)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("logging %s in to the console: %w", user, err)
		case <-time.After(time.Second):
		}
	}
}

var tags = regexp.MustCompile(`<[^>]*>`)

// element is the text of the element of the page with id, or "".
func element(body, id string) string {
	start := strings.Index(body, `id="`+id+`"`)
	if start < 0 {
		return ""
	}
	rest := body[start:]
	end := strings.Index(rest, "</div>")
	if end < 0 {
		end = len(rest)
	}
	text := tags.ReplaceAllString(rest[strings.Index(rest, ">")+1:end], " ")
	return strings.ReplaceAll(strings.Join(strings.Fields(html.UnescapeString(text)), " "), " ,", ",")
}
