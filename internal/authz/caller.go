package authz

import (
	"net/netip"
	"time"
)

// Env is what the request's transport tells about it.
type Env struct {
	SourceIP  netip.Addr
	Secure    bool
	Region    string
	UserAgent string
	Now       time.Time
}
