// Command iamd is a self-hosted, AWS-compatible IAM, STS and audit service.
//
//	iamd serve [--addr 127.0.0.1:8750] [--data ./iamd-data] [--account-id 000000000000] [--store URL]
//	iamd revoke|sessions|whois|respond|instances …   (clients of a running server; see docs/revocation.md, docs/ec2-imds.md)
//	iamd version
//
// Every serve flag can also be given as an IAMD_* environment variable
// (IAMD_ADDR, IAMD_DATA, IAMD_ACCOUNT_ID, IAMD_STORE, IAMD_STALENESS_BOUND, IAMD_LOG_LEVEL).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/iamd/iamd/internal/app"
	"github.com/iamd/iamd/internal/audit"
	"github.com/iamd/iamd/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "iamd:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "audit":
		err := cli.RunAudit(ctx, args[1:], cli.Env{Getenv: getenv, Stdout: stdout, Stderr: stderr}, auditLocal(getenv))
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "revoke", "sessions", "whois", "respond", "instances":
		err := cli.Run(ctx, args[0], args[1:], cli.Env{Getenv: getenv, Stdout: stdout, Stderr: stderr})
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	case "version", "--version":
		fmt.Fprintln(stdout, "iamd", version)
		return nil
	case "help", "-h", "--help":
		usage(stdout)
		return nil
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: iamd <command> [flags]

commands:
  serve     run the server (IAM, STS) on one port
  revoke    revoke sessions: AWS's way (--role/--user) or one session; list, undo
  sessions  list the live sessions of a role or user
  whois     who owns an access key, when and where it was issued, does it work, what it did
  respond   the leaked-credential playbook: identify a key, contain it, report what it did
  instances list EC2 instances: state, profile and role, metadata endpoint, launch time
  audit     lookup, verify, export the audit trail; hash a secret to find its records
  version   print the version
`)
}

// durationEnv returns the IAMD_* duration for a flag, or def.
func durationEnv(getenv func(string) string, name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(envDefault(getenv, name, "")); err == nil {
		return d
	}
	return def
}

// envDefault returns the IAMD_* variable for a flag, or def.
func envDefault(getenv func(string) string, name, def string) string {
	if v := getenv("IAMD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
		return v
	}
	return def
}

func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envDefault(getenv, "addr", "127.0.0.1:8750"), "listen address (IAMD_ADDR)")
	data := fs.String("data", envDefault(getenv, "data", "./iamd-data"), "data directory (IAMD_DATA)")
	account := fs.String("account-id", envDefault(getenv, "account-id", "000000000000"), "account id (IAMD_ACCOUNT_ID)")
	store := fs.String("store", envDefault(getenv, "store", "sqlite"), "sqlite, or a postgres:// URL (IAMD_STORE)")
	retention := fs.Duration("audit-retention", durationEnv(getenv, "audit-retention", audit.DefaultRetention), "how long audit records are kept (IAMD_AUDIT_RETENTION)")
	staleness := fs.Duration("staleness-bound", durationEnv(getenv, "staleness-bound", app.DefaultStalenessBound), "on a shared store (PostgreSQL): how long a node may go without confirming the store's state before it answers 503 instead of authorizing (IAMD_STALENESS_BOUND; negative disables)")
	level := fs.String("log-level", envDefault(getenv, "log-level", "info"), "debug, info, warn or error (IAMD_LOG_LEVEL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))

	a, err := app.New(ctx, app.Config{
		Addr: *addr, DataDir: *data, Store: *store, AccountID: *account,
		AdminAccessKeyID:     getenv("IAMD_ADMIN_ACCESS_KEY_ID"),
		AdminSecretAccessKey: getenv("IAMD_ADMIN_SECRET_ACCESS_KEY"),
		MasterKey:            getenv("IAMD_MASTER_KEY"),
		AuditRetention:       *retention,
		StalenessBound:       *staleness,
		Log:                  log,
	})
	if err != nil {
		return err
	}
	if a.AdminCredentialsFile != "" {
		fmt.Fprintf(stderr, "iamd: administrator credentials written to %s (profile iamd)\n", a.AdminCredentialsFile)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		a.Close()
		return err
	}
	log.Info("iamd serving", "addr", ln.Addr().String(), "data", *data, "account", *account)
	err = a.Serve(ctx, ln)
	log.Info("iamd stopped")
	return err
}
