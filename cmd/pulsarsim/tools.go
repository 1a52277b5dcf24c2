package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/pulsar-client-go/pulsar"
	pulsarlog "github.com/apache/pulsar-client-go/pulsar/log"
	"github.com/apache/pulsar-client-go/pulsaradmin"
	adminconfig "github.com/apache/pulsar-client-go/pulsaradmin/pkg/admin/config"
	"github.com/apache/pulsar-client-go/pulsaradmin/pkg/utils"
)

// A tool is a helper command: it returns the exit code (0 ok, 1 failed,
// 2 usage).
type tool func(args []string, stdout, stderr io.Writer) int

func tools() map[string]tool {
	return map[string]tool{"admin": adminTool, "produce": produceTool, "consume": consumeTool}
}

// toolTimeout bounds each helper command.
const toolTimeout = 30 * time.Second

// flags is a tool's flag set with pulsarsim's usage conventions.
func flags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("pulsarsim "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: pulsarsim %s\n\nFlags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// finish maps a tool's error to its exit code and message.
func finish(name string, err error, stderr io.Writer) int {
	var usage usageErr
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "pulsarsim %s: %v\n", name, err)
		return 2
	}
	fmt.Fprintf(stderr, "pulsarsim %s: %v\n", name, err)
	return 1
}

type usageErr struct{ error }

func usagef(format string, args ...any) error { return usageErr{fmt.Errorf(format, args...)} }

// parse parses flags, wrapping flag errors as usage errors.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr{err}
	}
	return nil
}

// adminTool: pulsarsim admin --web-url URL[,URL] create-namespace NS --clusters a,b
//
//	pulsarsim admin --web-url URL backlog TOPIC SUBSCRIPTION
func adminTool(args []string, stdout, stderr io.Writer) int {
	fs := flags("admin", "admin --web-url URL[,URL...] create-namespace TENANT/NS --clusters A,B\n       pulsarsim admin --web-url URL backlog TOPIC SUBSCRIPTION", stderr)
	webURLs := fs.String("web-url", "http://127.0.0.1:8080", "admin URL(s) of the cluster(s), comma-separated")
	clusters := fs.String("clusters", "", "create-namespace: the clusters the namespace replicates to")
	err := parse(fs, args)
	if err == nil {
		err = runAdmin(fs.Args(), strings.Split(*webURLs, ","), *clusters, stdout)
	}
	return finish("admin", err, stderr)
}

func runAdmin(args, webURLs []string, clusters string, stdout io.Writer) error {
	switch {
	case len(args) >= 2 && args[0] == "create-namespace":
		if clusters == "" {
			return usagef("create-namespace needs --clusters (before the subcommand), e.g. --clusters east,west")
		}
		for _, u := range webURLs {
			if err := createNamespace(u, args[1], strings.Split(clusters, ",")); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: namespace %s replicates to %s\n", u, args[1], clusters)
		}
		return nil
	case len(args) == 3 && args[0] == "backlog":
		n, err := backlog(webURLs[0], args[1], args[2])
		if err == nil {
			fmt.Fprintln(stdout, n)
		}
		return err
	}
	return usagef("expected create-namespace TENANT/NS or backlog TOPIC SUBSCRIPTION, got %q", args)
}

func adminClient(webURL string) (pulsaradmin.Client, error) {
	c, err := pulsaradmin.NewClient(&adminconfig.Config{WebServiceURL: webURL})
	if err != nil {
		return nil, fmt.Errorf("admin client for %s: %w", webURL, err)
	}
	return c, nil
}

// createNamespace creates ns and its tenant (existing ones are fine) and
// sets the namespace's replication clusters.
func createNamespace(webURL, ns string, clusters []string) error {
	adm, err := adminClient(webURL)
	if err != nil {
		return err
	}
	tenant, _, ok := strings.Cut(ns, "/")
	if !ok {
		return usagef("namespace %q: expected TENANT/NAMESPACE", ns)
	}
	err = adm.Tenants().Create(utils.TenantData{Name: tenant, AllowedClusters: clusters})
	if err != nil && !alreadyExists(err) {
		return fmt.Errorf("%s: create tenant %s: %w", webURL, tenant, err)
	}
	if err := adm.Namespaces().CreateNamespace(ns); err != nil && !alreadyExists(err) {
		return fmt.Errorf("%s: create namespace %s: %w", webURL, ns, err)
	}
	if err := adm.Namespaces().SetNamespaceReplicationClusters(ns, clusters); err != nil {
		return fmt.Errorf("%s: replication clusters of %s: %w", webURL, ns, err)
	}
	return nil
}

// alreadyExists: the admin API answered 409 Conflict.
func alreadyExists(err error) bool { return strings.Contains(err.Error(), "409") }

func backlog(webURL, topic, sub string) (int64, error) {
	adm, err := adminClient(webURL)
	if err != nil {
		return 0, err
	}
	tn, err := utils.GetTopicName(topic)
	if err != nil {
		return 0, usagef("topic %q: %v", topic, err)
	}
	st, err := adm.Topics().GetStats(*tn)
	if err != nil {
		return 0, fmt.Errorf("%s: stats of %s: %w", webURL, topic, err)
	}
	s, ok := st.Subscriptions[sub]
	if !ok {
		return 0, fmt.Errorf("%s: topic %s has no subscription %s", webURL, topic, sub)
	}
	return s.MsgBacklog, nil
}

func client(serviceURL string) (pulsar.Client, error) {
	c, err := pulsar.NewClient(pulsar.ClientOptions{URL: serviceURL, Logger: pulsarlog.DefaultNopLogger(),
		OperationTimeout: 10 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", serviceURL, err)
	}
	return c, nil
}

// produceTool: pulsarsim produce --service-url URL --topic T --count N
func produceTool(args []string, stdout, stderr io.Writer) int {
	fs := flags("produce", "produce --service-url URL --topic TOPIC [--count N] [--prefix P]", stderr)
	serviceURL := fs.String("service-url", "pulsar://127.0.0.1:6650", "the cluster's binary protocol URL")
	topic := fs.String("topic", "", "topic to produce to (required)")
	count := fs.Int("count", 100, "messages to send; payloads are PREFIX0, PREFIX1, ...")
	prefix := fs.String("prefix", "msg-", "payload prefix")
	err := parse(fs, args)
	if err == nil && (*topic == "" || *count < 1) {
		err = usagef("--topic is required and --count must be at least 1")
	}
	if err == nil {
		err = produce(*serviceURL, *topic, *prefix, *count)
	}
	if err == nil {
		fmt.Fprintf(stdout, "produced %d message(s) to %s\n", *count, *topic)
	}
	return finish("produce", err, stderr)
}

func produce(serviceURL, topic, prefix string, count int) error {
	c, err := client(serviceURL)
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := c.CreateProducer(pulsar.ProducerOptions{Topic: topic})
	if err != nil {
		return fmt.Errorf("producer on %s: %w", topic, err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	for i := range count {
		if _, err := p.Send(ctx, &pulsar.ProducerMessage{Payload: []byte(prefix + strconv.Itoa(i))}); err != nil {
			return fmt.Errorf("send %d to %s: %w", i, topic, err)
		}
	}
	return nil
}

// consumeOptions are what consume is asked to do.
type consumeOptions struct {
	serviceURL, topic, subscription string
	count, holdEvery                int
	wait                            time.Duration
}

// consumeTool: pulsarsim consume --service-url URL --topic T --subscription S
func consumeTool(args []string, stdout, stderr io.Writer) int {
	fs := flags("consume", "consume --service-url URL --topic TOPIC --subscription SUB [--count N] [--hold-every K]", stderr)
	var o consumeOptions
	fs.StringVar(&o.serviceURL, "service-url", "pulsar://127.0.0.1:6650", "the cluster's binary protocol URL")
	fs.StringVar(&o.topic, "topic", "", "topic to consume (required)")
	fs.StringVar(&o.subscription, "subscription", "", "subscription name, Shared, created at the earliest message (required)")
	fs.IntVar(&o.count, "count", 0, "stop after this many messages (0: until none arrives for --wait)")
	fs.IntVar(&o.holdEvery, "hold-every", 0, "leave every K-th received message unacknowledged, like a stuck message (0: acknowledge all)")
	fs.DurationVar(&o.wait, "wait", 3*time.Second, "stop when no message arrives for this long")
	err := parse(fs, args)
	if err == nil && (o.topic == "" || o.subscription == "" || o.count < 0 || o.holdEvery < 0 || o.wait <= 0) {
		err = usagef("--topic and --subscription are required; --count and --hold-every must be >= 0, --wait positive")
	}
	if err == nil {
		err = consume(o, stdout)
	}
	return finish("consume", err, stderr)
}

// consume receives messages and prints one line per message: its payload
// and "acked" or "held".
func consume(o consumeOptions, stdout io.Writer) error {
	c, err := client(o.serviceURL)
	if err != nil {
		return err
	}
	defer c.Close()
	cons, err := c.Subscribe(pulsar.ConsumerOptions{Topic: o.topic, SubscriptionName: o.subscription,
		Type: pulsar.Shared, SubscriptionInitialPosition: pulsar.SubscriptionPositionEarliest,
		AckWithResponse: true}) // the count printed is what the broker confirmed
	if err != nil {
		return fmt.Errorf("subscribe %s on %s: %w", o.subscription, o.topic, err)
	}
	defer cons.Close()
	acked, held := 0, 0
	for o.count == 0 || acked+held < o.count {
		ctx, cancel := context.WithTimeout(context.Background(), o.wait)
		m, err := cons.Receive(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			return fmt.Errorf("receive from %s: %w", o.topic, err)
		}
		if o.holdEvery > 0 && (acked+held+1)%o.holdEvery == 0 {
			held++
			fmt.Fprintf(stdout, "%s held\n", m.Payload())
			continue
		}
		if err := cons.Ack(m); err != nil {
			return fmt.Errorf("ack %s: %w", m.ID(), err)
		}
		acked++
		fmt.Fprintf(stdout, "%s acked\n", m.Payload())
	}
	fmt.Fprintf(stdout, "received %d: %d acknowledged, %d held\n", acked+held, acked, held)
	return nil
}
