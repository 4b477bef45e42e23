// Package cli is the iamd command-line client: every `iamd` command but
// `serve` is a client of the server's API, as the AWS CLI is.
//
// It takes credentials the way AWS tools do (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE and the shared
// config and credentials files, through aws-sdk-go-v2's config package),
// finds the server from --endpoint-url or IAMD_ENDPOINT_URL (default
// http://127.0.0.1:8750), signs with aws-sdk-go-v2's SigV4 signer, and
// prints readable tables, or JSON with --output json.
//
// Adding a command: write one file with a func(ctx, *Cmd) error that
// declares its flags on cmd.Flags, calls cmd.Parse(), then cmd.Client(ctx)
// and Client.Query for each call, and prints with cmd.Table, cmd.Fields or
// cmd.JSON; then add it to commands below. revoke.go, sessions.go and
// whois.go are examples.
//
// It does not talk to a store or import the server's packages: only the
// wire protocol.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// DefaultEndpoint is where the CLI looks for iamd without --endpoint-url
// or IAMD_ENDPOINT_URL.
const DefaultEndpoint = "http://127.0.0.1:8750"

// Env is what a command may use of its process.
type Env struct {
	Getenv func(string) string // nil: os.Getenv
	Stdin  io.Reader           // nil: os.Stdin (respond's confirmation)
	Stdout io.Writer
	Stderr io.Writer
	// HTTPClient sends the requests; nil: http.DefaultClient.
	HTTPClient *http.Client
}

// Cmd is one command being run: its flags, its arguments and its output.
type Cmd struct {
	Name  string
	Flags *flag.FlagSet
	Args  []string // positional arguments after Parse
	Env   Env

	raw                               []string
	endpoint, profile, region, output string
}

// commands maps each command name to its function and one-line summary.
var commands = map[string]struct {
	run     func(context.Context, *Cmd) error
	summary string
}{
	"revoke":   {runRevoke, "revoke sessions (AWS's AWSRevokeOlderSessions, or one session), list and undo"},
	"sessions": {runSessions, "list the live sessions of a role or user"},
	"whois":    {runWhois, "tell who owns an access key, when and where it was issued and whether it works"},
}

// Commands lists the command names Run knows, for the caller's usage text.
func Commands() map[string]string {
	out := map[string]string{}
	for n, c := range commands {
		out[n] = c.summary
	}
	return out
}

// ErrUsage is returned (wrapped) for bad flags or arguments.
var ErrUsage = errors.New("usage")

// Run runs the named command with args.
func Run(ctx context.Context, name string, args []string, env Env) error {
	c, ok := commands[name]
	if !ok {
		return fmt.Errorf("%w: unknown command %q", ErrUsage, name)
	}
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdin == nil {
		env.Stdin = os.Stdin
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	cmd := &Cmd{Name: name, Flags: flag.NewFlagSet("iamd "+name, flag.ContinueOnError), Env: env, raw: args}
	cmd.Flags.SetOutput(env.Stderr)
	cmd.Flags.StringVar(&cmd.endpoint, "endpoint-url", "", "iamd's URL (IAMD_ENDPOINT_URL; default "+DefaultEndpoint+")")
	cmd.Flags.StringVar(&cmd.profile, "profile", "", "profile in the shared AWS config and credentials files (AWS_PROFILE)")
	cmd.Flags.StringVar(&cmd.region, "region", "", "region to sign for (AWS_REGION; default us-east-1)")
	cmd.Flags.StringVar(&cmd.output, "output", "table", "table or json")
	return c.run(ctx, cmd)
}

// Parse parses the command line. Flags may come before or after the
// positional arguments, as with the AWS CLI.
func (c *Cmd) Parse() error {
	args := c.raw
	var pos []string
	for {
		if err := c.Flags.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		rest := c.Flags.Args()
		if len(rest) == 0 {
			break
		}
		if rest[0] == "--" {
			pos = append(pos, rest[1:]...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	c.Args = pos
	if c.output != "table" && c.output != "json" {
		return fmt.Errorf("%w: --output must be table or json, not %q", ErrUsage, c.output)
	}
	return nil
}

// usagef is a usage error.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// JSONOutput reports whether --output json was asked for.
func (c *Cmd) JSONOutput() bool { return c.output == "json" }

// Endpoint is the server's URL.
func (c *Cmd) Endpoint() string {
	if c.endpoint != "" {
		return strings.TrimRight(c.endpoint, "/")
	}
	if v := c.Env.Getenv("IAMD_ENDPOINT_URL"); v != "" {
		return strings.TrimRight(v, "/")
	}
	return DefaultEndpoint
}
