package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Query API versions.
const (
	IAMVersion = "2010-05-08"
	STSVersion = "2011-06-15"
)

// Client calls iamd's Query APIs with SigV4-signed requests.
type Client struct {
	Endpoint    string
	Region      string
	Credentials aws.CredentialsProvider
	HTTP        *http.Client
	Now         func() time.Time
	signer      *v4.Signer
}

// Client builds the command's client from its flags and the AWS
// credential chain.
func (c *Cmd) Client(ctx context.Context) (*Client, error) {
	opts := []func(*config.LoadOptions) error{}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	if cfg.Credentials == nil {
		return nil, errors.New("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE")
	}
	hc := c.Env.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Endpoint: c.Endpoint(), Region: region, Credentials: cfg.Credentials, HTTP: hc, Now: time.Now, signer: v4.NewSigner()}, nil
}

// APIError is an error the server answered with.
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Code returns err's AWS error code, "" if it is not an APIError.
func Code(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

// IAM calls an IAM-namespace action (iamd's own actions live there too)
// and decodes its <ActionResult> into out (nil: ignore the result).
func (cl *Client) IAM(ctx context.Context, action string, params url.Values, out any) error {
	return cl.Query(ctx, "iam", IAMVersion, action, params, out)
}

// Query calls action of the Query service signed as service, at version.
func (cl *Client) Query(ctx context.Context, service, version, action string, params url.Values, out any) error {
	resp, b, err := cl.postForm(ctx, service, version, action, params)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code    string
				Message string
			}
			RequestID string `xml:"RequestId"`
		}
		if xml.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return unparsedError(resp, b)
		}
		return &APIError{StatusCode: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, RequestID: e.RequestID}
	}
	if out == nil {
		return nil
	}
	return decodeResult(b, action+"Result", out)
}

// postForm sends a Query-protocol call (IAM, STS and EC2 share it): params
// with Action and Version, form-encoded, signed as service. Decoding the
// answer is left to the caller, as each dialect words its errors
// differently.
func (cl *Client) postForm(ctx context.Context, service, version, action string, params url.Values) (*http.Response, []byte, error) {
	form := url.Values{}
	for k, v := range params {
		form[k] = v
	}
	form.Set("Action", action)
	form.Set("Version", version)
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	return cl.send(ctx, service, action, []byte(form.Encode()), h)
}

// maxResponse bounds what the client reads of an answer.
const maxResponse = 64 << 20

// send POSTs body to the endpoint's root with header, signed with SigV4
// as service, and returns the response (its body already closed) and up
// to maxResponse bytes of that body. A status of 300 or more is not an
// error here: the caller decodes it in its protocol's terms. action only
// names the call in errors.
func (cl *Client) send(ctx context.Context, service, action string, body []byte, header http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	creds, err := cl.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("AWS credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := cl.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), service, cl.Region, cl.Now()); err != nil {
		return nil, nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: read response: %w", action, err)
	}
	return resp, b, nil
}

// unparsedError is the error for a failed answer in no dialect the client
// reads (a proxy's page, say): the HTTP status and the body as it came.
func unparsedError(resp *http.Response, b []byte) *APIError {
	return &APIError{StatusCode: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(b))}
}

// decodeResult finds the element named result and decodes it into out.
func decodeResult(b []byte, result string, out any) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			return fmt.Errorf("response has no %s: %w", result, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == result {
			return d.DecodeElement(out, &se)
		}
	}
}

// NewClient returns a Client for endpoint with the given credentials, for
// programs and tests that do not go through the AWS credential chain.
func NewClient(endpoint, region string, creds aws.CredentialsProvider, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{Endpoint: strings.TrimRight(endpoint, "/"), Region: region, Credentials: creds, HTTP: hc, Now: time.Now, signer: v4.NewSigner()}
}
