package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/wardhq/ward/internal/gateway"
)

const gatewayUsage = `usage:
  ward gateway provider add --name NAME --url URL [--baa-signed-at YYYY-MM-DD --baa-ref REF] [--zero-retention]
                            [--models a,b] [--region R]
  ward gateway provider list
  ward gateway enable --org ORG_ID --provider NAME`

// runGateway is the operator's registry of the LLM gateway's subprocessors.
// A provider without an executed BAA or zero retention is registered but
// every call to it is refused. Ward's own key for a provider is not stored:
// the server reads it from WARD_GATEWAY_KEYS.
func runGateway(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "enable" {
		return runGatewayEnable(ctx, args[1:], getenv, stdout, stderr)
	}
	if len(args) < 2 || args[0] != "provider" || (args[1] != "add" && args[1] != "list") {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(stdout, gatewayUsage)
			return nil
		}
		return errors.New(gatewayUsage)
	}
	var c common
	var p gateway.Provider
	var baa, models string
	fs := newFlagSet("gateway provider "+args[1], "gateway provider "+args[1]+" [flags]", stdout)
	addCommon(fs, &c, getenv)
	if args[1] == "add" {
		fs.StringVar(&p.Name, "name", "", "the provider's name (the gateway calls the one --gateway-provider names)")
		fs.StringVar(&p.BaseURL, "url", "", "its Messages API base URL, without /v1 (https://api.anthropic.com)")
		fs.StringVar(&baa, "baa-signed-at", "", "the date the business associate agreement was executed (YYYY-MM-DD); none: calls are refused")
		fs.StringVar(&p.BAARef, "baa-ref", "", "where the executed agreement is kept")
		fs.BoolVar(&p.ZeroRetention, "zero-retention", false, "attest that the provider keeps no prompts or replies; without it calls are refused")
		fs.StringVar(&models, "models", "", "comma-separated models calls may name (default: any)")
		fs.StringVar(&p.Region, "region", "", "where the provider processes data")
	}
	if err := parse(fs, args[2:]); err != nil {
		return err
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	if args[1] == "list" {
		ps, err := gateway.ListProviders(ctx, op.db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tURL\tBAA SIGNED\tZERO RETENTION\tMODELS")
		for _, p := range ps {
			signed := "-"
			if !p.BAASignedAt.IsZero() {
				signed = p.BAASignedAt.Format(time.DateOnly)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", p.Name, p.BaseURL, signed, p.ZeroRetention, strings.Join(p.Models, ","))
		}
		return tw.Flush()
	}
	if p.Name == "" || p.BaseURL == "" {
		return withUsage(fs, errors.New("--name and --url are required"))
	}
	if baa != "" {
		if p.BAASignedAt, err = time.Parse(time.DateOnly, baa); err != nil {
			return withUsage(fs, errors.New("--baa-signed-at: a date YYYY-MM-DD"))
		}
	}
	for _, m := range strings.Split(models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			p.Models = append(p.Models, m)
		}
	}
	if err := gateway.PutProvider(ctx, op.db, p); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provider=%s baa=%t zero_retention=%t\n", p.Name, !p.BAASignedAt.IsZero(), p.ZeroRetention)
	if p.BAASignedAt.IsZero() || !p.ZeroRetention {
		fmt.Fprintln(stderr, "ward: warning: without an executed BAA and zero retention every gateway call to this provider is refused")
	}
	return nil
}

// parseGatewayKeys reads WARD_GATEWAY_KEYS: name=key[,name=key]. Its
// errors never quote a key.
func parseGatewayKeys(s string) (map[string]string, error) {
	keys := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		name, key, ok := strings.Cut(kv, "=")
		name, key = strings.TrimSpace(name), strings.TrimSpace(key)
		if !ok || name == "" || key == "" {
			return nil, errors.New("WARD_GATEWAY_KEYS: expected name=key[,name=key]")
		}
		keys[name] = key
	}
	return keys, nil
}

// runGatewayEnable enables a registered provider for one org (the rest of
// the org's gateway policy is its admins', PUT /v1/org/gateway-policy).
func runGatewayEnable(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c common
	var org, provider string
	fs := newFlagSet("gateway enable", "gateway enable --org ORG_ID --provider NAME", stdout)
	addCommon(fs, &c, getenv)
	fs.StringVar(&org, "org", "", "the org's id")
	fs.StringVar(&provider, "provider", "", "the registered provider its calls may use")
	if err := parse(fs, args); err != nil {
		return err
	}
	id, err := uuid.Parse(org)
	if err != nil || provider == "" {
		return withUsage(fs, errors.New("--org (an org id) and --provider are required"))
	}
	op, done, err := c.operator(ctx, stderr, "")
	if err != nil {
		return err
	}
	defer done()
	if err := gateway.EnableProvider(ctx, op.db, id, provider); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "provider %s enabled for org %s\n", provider, id)
	return nil
}
