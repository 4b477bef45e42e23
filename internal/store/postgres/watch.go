package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// heartbeat is how long Watch waits for a notification before checking
// the connection (and the generation) itself. A silently dead TCP
// connection would otherwise go unnoticed for as long as the kernel's
// keepalive takes.
const heartbeat = 10 * time.Second

// Watch reports the store's generation as it changes, on any node: first
// the current generation, then each new one. It LISTENs on a connection of
// its own, reconnecting with backoff when that connection fails and
// reporting the generation read after every reconnect, so a change missed
// while disconnected is still reported. Values are coalesced: a slow
// receiver sees the latest generation, not every one. The channel closes
// when ctx ends. Watch fails only if the first connection cannot be made.
//
// Watch is a fast path, not a guarantee. A caller that must bound
// staleness (revocations must apply on every node within a bound) should
// also poll Generation at that bound and treat failure to learn the
// generation within it as "stale": fail closed. NOTIFY does not pass
// through a transaction-pooling PgBouncer, and a partitioned node hears
// nothing at all.
func (s *Store) Watch(ctx context.Context) (<-chan uint64, error) {
	conn, gen, err := s.listen(ctx)
	if err != nil {
		return nil, err
	}
	ch := make(chan uint64, 1)
	go s.watch(ctx, conn, gen, ch)
	return ch, nil
}

// listen opens a connection, LISTENs, and only then reads the generation,
// so that no commit can fall between the read and the first notification.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, uint64, error) {
	conn, err := pgx.ConnectConfig(ctx, s.listenConfig.Copy())
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: watch: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		conn.Close(context.Background())
		return nil, 0, fmt.Errorf("postgres: watch: %w", err)
	}
	gen, err := readGeneration(ctx, conn)
	if err != nil {
		conn.Close(context.Background())
		return nil, 0, fmt.Errorf("postgres: watch: %w", err)
	}
	return conn, gen, nil
}

func readGeneration(ctx context.Context, conn *pgx.Conn) (uint64, error) {
	var g int64
	err := conn.QueryRow(ctx, "SELECT value FROM iamd_generation").Scan(&g)
	return uint64(g), err
}

func (s *Store) watch(ctx context.Context, conn *pgx.Conn, gen uint64, ch chan uint64) {
	defer close(ch)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	last := gen
	send(ch, gen)
	for {
		wctx, cancel := context.WithTimeout(ctx, heartbeat)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		switch {
		case err == nil:
			g, perr := strconv.ParseUint(n.Payload, 10, 64)
			// Notifications queued before our first read can carry
			// older numbers; only report progress.
			if perr == nil && g > last {
				last = g
				send(ch, g)
			}
			continue
		case wctx.Err() != nil:
			// Heartbeat. pgx leaves the connection usable after a
			// timed-out wait.
			g, err := readGeneration(ctx, conn)
			if err == nil {
				if g > last {
					last = g
					send(ch, g)
				}
				continue
			}
		}
		// The connection is broken: reconnect until ctx ends.
		conn.Close(context.Background())
		conn = nil
		for backoff := 100 * time.Millisecond; conn == nil; backoff = min(2*backoff, 5*time.Second) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			c, g, err := s.listen(ctx)
			if err != nil {
				continue
			}
			conn = c
			// After a gap, report whatever the generation now is, even
			// if lower (a database restored from backup is a change too).
			if g != last {
				last = g
				send(ch, g)
			}
		}
	}
}

// send replaces any value the receiver has not taken yet with g. Only the
// watch goroutine sends, so after draining, the send cannot block.
func send(ch chan uint64, g uint64) {
	select {
	case ch <- g:
		return
	default:
	}
	select {
	case <-ch:
	default:
	}
	select {
	case ch <- g:
	default:
	}
}
