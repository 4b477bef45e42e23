package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/iamd/iamd/internal/audit"
)

// `iamd audit lookup|verify|export|hash`.
//
// lookup is a client of the server's CloudTrail API (LookupEvents), like
// every other command. verify, export and hash are operator tools: they
// read the trail where the server keeps it (--data DIR's audit.db, or
// --store postgres://…) and the master key (DIR/master.key or
// IAMD_MASTER_KEY), so that checking the trail does not depend on the
// server that wrote it being up or honest. The opener is passed in by
// cmd/iamd, the one place that wires stores.

// AuditLocal opens the trail and the master key for the operator tools.
type AuditLocal struct {
	// Open opens the audit store of a data directory or store URL.
	Open func(ctx context.Context, dataDir, store string) (audit.Store, error)
	// MasterKey reads the server's master key (never creating one).
	MasterKey func(dataDir string) ([]byte, error)
}

// RunAudit runs `iamd audit SUB …`.
func RunAudit(ctx context.Context, args []string, env Env, local AuditLocal) error {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, auditUsage)
		return fmt.Errorf("%w: audit needs a subcommand", ErrUsage)
	}
	switch args[0] {
	case "lookup":
		return auditLookup(ctx, args[1:], env)
	case "verify":
		return auditVerify(ctx, args[1:], env, local)
	case "export":
		return auditExport(ctx, args[1:], env, local)
	case "hash":
		return auditHash(args[1:], env, local)
	case "help", "-h", "--help":
		fmt.Fprint(env.Stdout, auditUsage)
		return nil
	}
	fmt.Fprint(env.Stderr, auditUsage)
	return fmt.Errorf("%w: unknown audit subcommand %q", ErrUsage, args[0])
}

const auditUsage = `usage: iamd audit <subcommand> [flags]

  lookup  [--access-key-id K | --event-name N | --username U | --event-source S |
           --event-id ID | --resource-name N | --resource-type T | --read-only true|false]
          [--start-time T] [--end-time T] [--max-items N] [--output table|json]
          [--endpoint-url URL] [--profile P] [--region R]
          events from the server's LookupEvents, newest first
  verify  [--data DIR | --store URL]   check the hash chain; exit 1 on tampering
  export  --since T [--format jsonl] [--data DIR | --store URL]   stream records to stdout
  hash    VALUE [--data DIR]   the keyed hash iamd records instead of a session token
`

func auditFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("audit "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// parseAuditFlags parses like Cmd.Parse: a bad flag is a usage error
// (the flag package has already named it on stderr), and --help comes
// back as flag.ErrHelp, unwrapped, so that cmd/iamd exits 0.
func parseAuditFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return nil
}

// checkOutput validates --output as Cmd.Parse does for the other commands.
func checkOutput(output string) error {
	if output != "table" && output != "json" {
		return fmt.Errorf("%w: --output must be table or json, not %q", ErrUsage, output)
	}
	return nil
}

// parseTime accepts RFC 3339, a date, epoch seconds, or a duration ago ("24h").
func parseTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	var sec int64
	if _, err := fmt.Sscanf(s, "%d", &sec); err == nil && fmt.Sprint(sec) == s {
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("%w: time %q: want RFC 3339, YYYY-MM-DD, epoch seconds or a duration ago like 24h", ErrUsage, s)
}

func auditLookup(ctx context.Context, args []string, env Env) error {
	fs := auditFlags("lookup", env)
	attrs := map[string]*string{}
	for flagName, key := range map[string]string{
		"access-key-id": audit.AttrAccessKeyID, "event-name": audit.AttrEventName, "username": audit.AttrUsername,
		"event-source": audit.AttrEventSource, "event-id": audit.AttrEventID, "resource-name": audit.AttrResourceName,
		"resource-type": audit.AttrResourceType, "read-only": audit.AttrReadOnly,
	} {
		attrs[key] = fs.String(flagName, "", "lookup attribute "+key)
	}
	start := fs.String("start-time", "", "earliest event time (RFC 3339, date, epoch, or 24h ago)")
	end := fs.String("end-time", "", "latest event time")
	maxItems := fs.Int("max-items", 50, "how many events to show at most")
	output := fs.String("output", "table", "table or json")
	endpoint := fs.String("endpoint-url", "", "the server (IAMD_ENDPOINT_URL, default "+DefaultEndpoint+")")
	profile := fs.String("profile", "", "AWS profile")
	region := fs.String("region", "", "AWS region")
	if err := parseAuditFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	in := &cloudtrail.LookupEventsInput{}
	for key, v := range attrs {
		if *v == "" {
			continue
		}
		if in.LookupAttributes != nil {
			return fmt.Errorf("%w: give at most one lookup attribute, as LookupEvents takes one", ErrUsage)
		}
		in.LookupAttributes = []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKey(key), AttributeValue: aws.String(*v)}}
	}
	now := time.Now()
	for _, t := range []struct {
		s   string
		dst **time.Time
	}{{*start, &in.StartTime}, {*end, &in.EndTime}} {
		if t.s != "" {
			v, err := parseTime(t.s, now)
			if err != nil {
				return err
			}
			*t.dst = &v
		}
	}
	ep := *endpoint
	if ep == "" {
		ep = env.Getenv("IAMD_ENDPOINT_URL")
	}
	if ep == "" {
		ep = DefaultEndpoint
	}
	opts := []func(*config.LoadOptions) error{}
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	if *region != "" {
		cfg.Region = *region
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if env.HTTPClient != nil {
		cfg.HTTPClient = env.HTTPClient
	}
	client := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(ep) })
	var events []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(client, in)
	for p.HasMorePages() && len(events) < *maxItems {
		out, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		events = append(events, out.Events...)
	}
	if len(events) > *maxItems {
		events = events[:*maxItems]
	}
	if *output == "json" {
		recs := make([]json.RawMessage, 0, len(events))
		for _, e := range events {
			recs = append(recs, json.RawMessage(aws.ToString(e.CloudTrailEvent)))
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tSOURCE\tUSER\tACCESS KEY\tSOURCE IP\tRESULT")
	for _, e := range events {
		var rec struct {
			SourceIPAddress string `json:"sourceIPAddress"`
			ErrorCode       string `json:"errorCode"`
		}
		_ = json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec)
		result := "ok"
		if rec.ErrorCode != "" {
			result = rec.ErrorCode
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", aws.ToTime(e.EventTime).UTC().Format(time.RFC3339),
			aws.ToString(e.EventName), strings.TrimSuffix(aws.ToString(e.EventSource), ".amazonaws.com"),
			dash(aws.ToString(e.Username)), dash(aws.ToString(e.AccessKeyId)), dash(rec.SourceIPAddress), result)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func storeFlags(fs *flag.FlagSet, env Env) (data, store *string) {
	data = fs.String("data", firstNonEmpty(env.Getenv("IAMD_DATA"), "./iamd-data"), "data directory (IAMD_DATA)")
	store = fs.String("store", firstNonEmpty(env.Getenv("IAMD_STORE"), "sqlite"), "sqlite, or a postgres:// URL (IAMD_STORE)")
	return data, store
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// ErrTampered is returned by verify when the chain is broken.
var ErrTampered = errors.New("the audit trail does not verify")

func auditVerify(ctx context.Context, args []string, env Env, local AuditLocal) error {
	fs := auditFlags("verify", env)
	data, store := storeFlags(fs, env)
	output := fs.String("output", "table", "table or json")
	if err := parseAuditFlags(fs, args); err != nil {
		return err
	}
	if err := checkOutput(*output); err != nil {
		return err
	}
	st, err := local.Open(ctx, *data, *store)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := audit.Verify(ctx, st)
	if err != nil {
		return err
	}
	if *output == "json" {
		out := map[string]any{"checked": rep.Checked, "anchorSeq": rep.Anchor.Seq, "headSeq": rep.Head.Seq,
			"headHash": fmt.Sprintf("%x", rep.Head.Hash), "ok": rep.Problem == nil}
		if p := rep.Problem; p != nil {
			out["problem"] = map[string]any{"seq": p.Seq, "kind": p.Kind, "detail": p.Detail}
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else if rep.Problem == nil {
		fmt.Fprintf(env.Stdout, "ok: %d records verified (sequence %d to %d); head hash %x\n",
			rep.Checked, rep.Anchor.Seq+1, rep.Last.Seq, rep.Head.Hash)
	} else {
		fmt.Fprintf(env.Stdout, "TAMPERED: %s (%d records before it verified)\n", rep.Problem, rep.Checked)
	}
	if rep.Problem != nil {
		return ErrTampered
	}
	return nil
}

func auditExport(ctx context.Context, args []string, env Env, local AuditLocal) error {
	fs := auditFlags("export", env)
	data, store := storeFlags(fs, env)
	since := fs.String("since", "", "export records from this time on (RFC 3339, date, epoch, or 24h ago)")
	format := fs.String("format", "jsonl", "jsonl (one CloudTrail record per line)")
	if err := parseAuditFlags(fs, args); err != nil {
		return err
	}
	if *format != "jsonl" {
		return fmt.Errorf("%w: --format: only jsonl is supported", ErrUsage)
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseTime(*since, time.Now()); err != nil {
			return err
		}
	}
	st, err := local.Open(ctx, *data, *store)
	if err != nil {
		return err
	}
	defer st.Close()
	var progress func(int64)
	if isTerminal(env.Stderr) {
		progress = func(n int64) { fmt.Fprintf(env.Stderr, "\rexported %d records", n) }
	}
	_, err = audit.Export(ctx, st, from, env.Stdout, progress)
	if progress != nil {
		fmt.Fprintln(env.Stderr)
	}
	return err
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func auditHash(args []string, env Env, local AuditLocal) error {
	fs := auditFlags("hash", env)
	data, _ := storeFlags(fs, env)
	var value string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		value, args = args[0], args[1:]
	}
	if err := parseAuditFlags(fs, args); err != nil {
		return err
	}
	if value == "" && fs.NArg() > 0 {
		value = fs.Arg(0)
	}
	if value == "" {
		return fmt.Errorf("%w: audit hash VALUE", ErrUsage)
	}
	key, err := local.MasterKey(*data)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, audit.NewHasher(key).Hash(value))
	return nil
}
