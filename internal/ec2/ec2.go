// Package ec2 is the EC2 domain as far as identity reaches it: instances as
// records (nothing is virtualized) with AWS's lifecycle, their IAM instance
// profile associations, and the credential manager that keeps a real STS
// session of each running instance's role — issued with the instance id as
// the session name, rotated well before it expires as EC2 does, and
// re-issued at once when the current session has been revoked, so the SDK
// on the instance recovers on its next credential fetch.
//
// It stores instances through kv.Store and imports neither net/http nor
// database/sql: the metadata endpoints (package imds) and the EC2 Query
// API (package httpapi) sit on top of it. It does not authorize calls; the
// HTTP layer asks authz first.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Welcome.html
package ec2

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/arn"
	"github.com/iamd/iamd/internal/iam"
	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/sts"
	"github.com/iamd/iamd/internal/token"
)

// EC2's error codes. EC2 answers client errors with HTTP 400 unless noted
// in the protocol layer.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
const (
	InvalidInstanceIDNotFound    apierr.Code = "InvalidInstanceID.NotFound"
	InvalidInstanceIDMalformed   apierr.Code = "InvalidInstanceID.Malformed"
	InvalidAssociationIDNotFound apierr.Code = "InvalidAssociationID.NotFound"
	IncorrectInstanceState       apierr.Code = "IncorrectInstanceState"
	IncorrectState               apierr.Code = "IncorrectState"
	InvalidParameterValue        apierr.Code = "InvalidParameterValue"
	InvalidParameterCombination  apierr.Code = "InvalidParameterCombination"
	MissingParameter             apierr.Code = "MissingParameter"
	InstanceLimitExceeded        apierr.Code = "InstanceLimitExceeded"
	InvalidFilter                apierr.Code = "InvalidFilter"
)

// Instance states and their codes.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceState.html
const (
	Pending      = "pending"
	Running      = "running"
	ShuttingDown = "shutting-down"
	Terminated   = "terminated"
	Stopping     = "stopping"
	Stopped      = "stopped"
)

// StateCode is the numeric code EC2 pairs with a state name.
func StateCode(state string) int {
	switch state {
	case Running:
		return 16
	case ShuttingDown:
		return 32
	case Terminated:
		return 48
	case Stopping:
		return 64
	case Stopped:
		return 80
	}
	return 0
}

// Metadata options (RunInstances MetadataOptions).
const (
	TokensOptional  = "optional"
	TokensRequired  = "required"
	EndpointEnabled = "enabled"
	EndpointOff     = "disabled"
)

// EndpointTag is the instance tag that publishes its metadata endpoint.
const EndpointTag = "iamd:imds-endpoint"

// ServicePrincipal is the principal EC2 assumes instance roles as.
const ServicePrincipal = "ec2.amazonaws.com"

// Tag is an instance tag.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// MetadataOptions are the instance's metadata service settings.
type MetadataOptions struct {
	HTTPTokens   string `json:"tokens"`   // optional | required
	HTTPEndpoint string `json:"endpoint"` // enabled | disabled
	HopLimit     int    `json:"hops"`
}

// Association is an instance's IAM instance profile association.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IamInstanceProfileAssociation.html
type Association struct {
	ID         string    `json:"id"` // iip-assoc-…
	InstanceID string    `json:"instance"`
	ProfileARN string    `json:"profile_arn"`
	ProfileID  string    `json:"profile_id"`
	State      string    `json:"state"` // associating | associated | disassociating | disassociated
	Timestamp  time.Time `json:"ts"`
}

// Instance is an EC2 instance record.
type Instance struct {
	ID            string          `json:"id"`
	ReservationID string          `json:"reservation"`
	ImageID       string          `json:"image"`
	InstanceType  string          `json:"type"`
	KeyName       string          `json:"key,omitempty"`
	State         string          `json:"state"`
	StateReason   string          `json:"reason,omitempty"`
	LaunchTime    time.Time       `json:"launched"`
	Region        string          `json:"region"`
	LaunchIndex   int             `json:"index"`
	Tags          []Tag           `json:"tags,omitempty"`
	Metadata      MetadataOptions `json:"metadata"`
	Association   *Association    `json:"association,omitempty"`
	// IMDSPort is the loopback port of the instance's metadata endpoint,
	// kept across stop/start and restarts so the endpoint stays put.
	IMDSPort int `json:"imds_port,omitempty"`
	// ContainerToken authorizes the container credentials endpoint for
	// this instance (AWS_CONTAINER_AUTHORIZATION_TOKEN).
	ContainerToken string `json:"container_token"`
}

// Endpoint is the instance's metadata endpoint URL ("" when it has none).
func (in *Instance) Endpoint() string {
	if in.IMDSPort == 0 || in.State == Terminated {
		return ""
	}
	return fmt.Sprintf("http://127.0.0.1:%d", in.IMDSPort)
}

// Endpoints opens and closes instances' metadata endpoints (package imds).
type Endpoints interface {
	// Open starts serving the instance's endpoint, on port if it is free
	// (0: any), and returns the port it serves on.
	Open(instanceID string, port int) (int, error)
	// Close stops it; closing one that is not open does nothing.
	Close(instanceID string)
}

// Config wires a Service.
type Config struct {
	Store   kv.Store
	IAM     *iam.Service
	STS     *sts.Service
	Account arn.AccountID
	Now     func() time.Time
	Rand    io.Reader
	Log     *slog.Logger
	// Revoked reports whether requests signed with sess would now be
	// denied while a freshly issued session of the same role would not —
	// that is, whether re-issuing helps. nil: never.
	Revoked func(ctx context.Context, sess *token.Session) bool
	// Generation returns a number that changes whenever IAM state does
	// (iam.Service.Generation); the manager re-checks sessions when it
	// moves. nil: sessions are only checked on fetch.
	Generation func() uint64
}

// Service is the EC2 domain.
type Service struct {
	store   kv.Store
	iam     *iam.Service
	sts     *sts.Service
	account arn.AccountID
	now     func() time.Time
	rand    io.Reader
	log     *slog.Logger
	revoked func(context.Context, *token.Session) bool
	gen     func() uint64

	epMu      sync.Mutex
	endpoints Endpoints

	creds credentialManager
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Revoked == nil {
		cfg.Revoked = func(context.Context, *token.Session) bool { return false }
	}
	s := &Service{
		store: cfg.Store, iam: cfg.IAM, sts: cfg.STS, account: cfg.Account, now: cfg.Now,
		rand: cfg.Rand, log: cfg.Log, revoked: cfg.Revoked, gen: cfg.Generation,
	}
	s.creds.init()
	return s
}

// SetEndpoints installs the metadata endpoints; instances that change
// state afterwards open and close theirs through it.
func (s *Service) SetEndpoints(e Endpoints) {
	s.epMu.Lock()
	s.endpoints = e
	s.epMu.Unlock()
}

func (s *Service) eps() Endpoints {
	s.epMu.Lock()
	defer s.epMu.Unlock()
	return s.endpoints
}

// Account is the account the instances belong to.
func (s *Service) Account() arn.AccountID { return s.account }

// Tables in the kv store.
const (
	tInstances    = "ec2.instances"    // instance id → Instance
	tAssociations = "ec2.associations" // association id → instance id
)

func getInstance(tx kv.Tx, id string) (*Instance, error) {
	b, err := tx.Get(tInstances, id)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	in := new(Instance)
	if err := json.Unmarshal(b, in); err != nil {
		return nil, fmt.Errorf("decode instance %s: %w", id, err)
	}
	return in, nil
}

func putInstance(tx kv.Tx, in *Instance) error {
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode instance %s: %w", in.ID, err)
	}
	return tx.Put(tInstances, in.ID, b)
}

func (s *Service) update(ctx context.Context, fn func(kv.Tx) error) error {
	err := s.store.Update(ctx, fn)
	if err != nil && apierr.As(err) == nil {
		return apierr.Internal(fmt.Errorf("ec2: %w", err))
	}
	return err
}

func (s *Service) view(ctx context.Context, fn func(kv.Tx) error) error {
	err := s.store.View(ctx, fn)
	if err != nil && apierr.As(err) == nil {
		return apierr.Internal(fmt.Errorf("ec2: %w", err))
	}
	return err
}

func notFound(id string) error {
	return apierr.New(InvalidInstanceIDNotFound, "The instance ID '%s' does not exist", id)
}

// CheckInstanceID rejects ids that are not shaped like EC2's: "i-" and 8
// or 17 lower-case hex digits.
func CheckInstanceID(id string) error {
	h, ok := cutPrefix(id, "i-")
	if !ok || (len(h) != 8 && len(h) != 17) || !isHex(h) {
		return apierr.New(InvalidInstanceIDMalformed, "Invalid id: \"%s\" (expecting \"i-...\")", id)
	}
	return nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) < len(p) || s[:len(p)] != p {
		return s, false
	}
	return s[len(p):], true
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// newID returns prefix and 17 random hex digits, the shape of EC2's ids.
func (s *Service) newID(prefix string) string {
	var b [9]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		panic("ec2: random source failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])[:17]
}

func (s *Service) newToken() string {
	var b [32]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		panic("ec2: random source failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
