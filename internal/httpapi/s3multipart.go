package httpapi

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/s3"
)

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Bucket   string
	Key      string
	UploadID string `xml:"UploadId"`
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html
func (c *s3Call) createMultipartUpload() error {
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	alg := c.r.Header.Get("X-Amz-Checksum-Algorithm")
	u, err := c.srv.cfg.S3.CreateMultipartUpload(c.ctx, c.bucket, c.key, metaOf(c.r.Header), alg)
	if err != nil {
		return err
	}
	if u.Algorithm != "" {
		c.w.Header().Set("X-Amz-Checksum-Algorithm", u.Algorithm)
	}
	return c.writeXML(initiateMultipartUploadResult{Xmlns: S3Namespace, Bucket: c.bucket, Key: c.key, UploadID: u.ID})
}

func (c *s3Call) partNumber() (int, error) {
	n, err := strconv.Atoi(url.Values(c.query).Get("partNumber"))
	if err != nil || n < 1 || n > s3.MaxPartNumber {
		return 0, apierr.New(s3.CodeInvalidArgument, "Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html
func (c *s3Call) uploadPart() error {
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	n, err := c.partNumber()
	if err != nil {
		return err
	}
	p, err := c.body()
	if err != nil {
		return err
	}
	part, err := c.srv.cfg.S3.UploadPart(c.ctx, url.Values(c.query).Get("uploadId"), n, &s3.PutInput{
		Bucket: c.bucket, Key: c.key, Body: p.r, Size: p.size,
		ContentMD5: c.r.Header.Get("Content-Md5"), Checksum: p.checksum,
	})
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", `"`+part.ETag+`"`)
	if part.Checksum != nil {
		c.w.Header().Set("X-Amz-Checksum-"+part.Checksum.Algorithm, part.Checksum.Value)
	}
	c.w.WriteHeader(http.StatusOK)
	return nil
}

type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string
	ETag         string
}

// UploadPartCopy: a part whose bytes come from another object (what
// `aws s3 cp s3://… s3://…` does above 8 MB).
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html
func (c *s3Call) uploadPartCopy() error {
	sb, sk, err := copySource(c.r.Header.Get("X-Amz-Copy-Source"))
	if err != nil {
		return err
	}
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	if err := c.authorizeSource(sb, sk); err != nil {
		return err
	}
	n, err := c.partNumber()
	if err != nil {
		return err
	}
	so, f, err := c.srv.cfg.S3.GetObject(c.ctx, sb, sk)
	if err != nil {
		return err
	}
	defer f.Close()
	start, size := int64(0), so.Size
	if r := c.r.Header.Get("X-Amz-Copy-Source-Range"); r != "" {
		var partial bool
		start, size, partial, err = parseRange(r, so.Size)
		if err != nil || !partial {
			return apierr.New(s3.CodeInvalidArgument, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
	}
	part, err := c.srv.cfg.S3.UploadPart(c.ctx, url.Values(c.query).Get("uploadId"), n, &s3.PutInput{
		Bucket: c.bucket, Key: c.key, Body: io.NewSectionReader(f, start, size), Size: size,
	})
	if err != nil {
		return err
	}
	return c.writeXML(copyPartResult{Xmlns: S3Namespace, LastModified: part.LastModified.Format(s3Time), ETag: `"` + part.ETag + `"`})
}

type completeMultipartUpload struct {
	Parts []struct {
		PartNumber int
		ETag       string
	} `xml:"Part"`
}

type completeMultipartUploadResult struct {
	XMLName  xml.Name `xml:"CompleteMultipartUploadResult"`
	Xmlns    string   `xml:"xmlns,attr"`
	Location string
	Bucket   string
	Key      string
	ETag     string
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html
func (c *s3Call) completeMultipartUpload() error {
	if err := c.authorize("s3:PutObject", c.objectARN()); err != nil {
		return err
	}
	body, err := c.readXMLBody()
	if err != nil {
		return err
	}
	var req completeMultipartUpload
	if err := xml.Unmarshal(body, &req); err != nil || len(req.Parts) == 0 {
		return apierr.New(s3.CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	parts := make([]s3.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = s3.CompletedPart{Number: p.PartNumber, ETag: p.ETag}
	}
	o, err := c.srv.cfg.S3.CompleteMultipartUpload(c.ctx, c.bucket, c.key, url.Values(c.query).Get("uploadId"), parts)
	if err != nil {
		return err
	}
	loc := "http://" + c.r.Host + "/" + c.bucket + "/" + s3URLEncode(c.key)
	return c.writeXML(completeMultipartUploadResult{Xmlns: S3Namespace, Location: loc, Bucket: c.bucket, Key: c.key, ETag: `"` + o.ETag + `"`})
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
func (c *s3Call) abortMultipartUpload() error {
	if err := c.authorize("s3:AbortMultipartUpload", c.objectARN()); err != nil {
		return err
	}
	if err := c.srv.cfg.S3.AbortMultipartUpload(c.ctx, c.bucket, c.key, url.Values(c.query).Get("uploadId")); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"ListPartsResult"`
	Xmlns                string   `xml:"xmlns,attr"`
	Bucket               string
	Key                  string
	UploadID             string `xml:"UploadId"`
	Initiator            *s3Owner
	Owner                *s3Owner
	StorageClass         string
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	ChecksumAlgorithm    string        `xml:",omitempty"`
	Parts                []s3PartEntry `xml:"Part"`
}

type s3PartEntry struct {
	PartNumber     int
	LastModified   string
	ETag           string
	Size           int64
	ChecksumCRC32  string `xml:",omitempty"`
	ChecksumCRC32C string `xml:",omitempty"`
	ChecksumSHA1   string `xml:",omitempty"`
	ChecksumSHA256 string `xml:",omitempty"`
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html
func (c *s3Call) listParts() error {
	if err := c.authorize("s3:ListMultipartUploadParts", c.objectARN()); err != nil {
		return err
	}
	q := url.Values(c.query)
	maxParts := 1000
	if v := q.Get("max-parts"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return apierr.New(s3.CodeInvalidArgument, "Provided max-parts not an integer or within integer range")
		}
		maxParts = min(n, 1000)
	}
	marker := 0
	if v := q.Get("part-number-marker"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return apierr.New(s3.CodeInvalidArgument, "Provided part-number-marker not an integer or within integer range")
		}
		marker = n
	}
	res, err := c.srv.cfg.S3.ListParts(c.ctx, c.bucket, c.key, q.Get("uploadId"), marker, maxParts)
	if err != nil {
		return err
	}
	out := listPartsResult{Xmlns: S3Namespace, Bucket: c.bucket, Key: c.key, UploadID: res.Upload.ID, Initiator: c.owner(), Owner: c.owner(),
		StorageClass: "STANDARD", PartNumberMarker: marker, NextPartNumberMarker: res.Next, MaxParts: maxParts, IsTruncated: res.Truncated,
		ChecksumAlgorithm: res.Upload.Algorithm}
	for _, p := range res.Parts {
		e := s3PartEntry{PartNumber: p.Number, LastModified: p.LastModified.Format(s3Time), ETag: `"` + p.ETag + `"`, Size: p.Size}
		if p.Checksum != nil {
			switch strings.ToUpper(p.Checksum.Algorithm) {
			case "CRC32":
				e.ChecksumCRC32 = p.Checksum.Value
			case "CRC32C":
				e.ChecksumCRC32C = p.Checksum.Value
			case "SHA1":
				e.ChecksumSHA1 = p.Checksum.Value
			case "SHA256":
				e.ChecksumSHA256 = p.Checksum.Value
			}
		}
		out.Parts = append(out.Parts, e)
	}
	return c.writeXML(out)
}
