package iam

import (
	"context"
	"errors"
	"time"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/policy"
)

// AWS managed policies iamd ships: the handful that operators and tools
// reach for first, with the documents of AWS's current default versions.
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/policy-list.html

type awsPolicy struct {
	name, id, description, version, doc string
	created, updated                    time.Time
}

func awsDate(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

var awsPolicies = []awsPolicy{
	{
		name: "AdministratorAccess", id: "ANPAIWMBCKSKIEE64ZLYK", version: "v1",
		description: "Provides full access to AWS services and resources.",
		created:     awsDate("2015-02-06T18:39:46Z"), updated: awsDate("2015-02-06T18:39:46Z"),
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "IAMFullAccess", id: "ANPAI7XKCFMBPM3QQRRVQ", version: "v2",
		description: "Provides full access to IAM via the AWS Management Console.",
		created:     awsDate("2015-02-06T18:40:38Z"), updated: awsDate("2019-06-21T19:40:00Z"),
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:DescribeOrganizationalUnit",
                "organizations:DescribePolicy",
                "organizations:ListChildren",
                "organizations:ListParents",
                "organizations:ListPoliciesForTarget",
                "organizations:ListRoots",
                "organizations:ListPolicies",
                "organizations:ListTargetsForPolicy"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "IAMReadOnlyAccess", id: "ANPAJKSO7NDY4T57MWDSQ", version: "v4",
		description: "Provides read only access to IAM via the AWS Management Console.",
		created:     awsDate("2015-02-06T18:40:39Z"), updated: awsDate("2018-01-25T19:11:27Z"),
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GenerateCredentialReport",
                "iam:GenerateServiceLastAccessedDetails",
                "iam:Get*",
                "iam:List*",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AmazonS3FullAccess", id: "ANPAIFIR6V6BVTRAHWINE", version: "v2",
		description: "Provides full access to all buckets via the AWS Management Console.",
		created:     awsDate("2015-02-06T18:40:58Z"), updated: awsDate("2021-09-27T20:16:37Z"),
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:*",
                "s3-object-lambda:*"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
	{
		name: "AmazonS3ReadOnlyAccess", id: "ANPAIZTJ4DXE7G6AGAE6M", version: "v3",
		description: "Provides read only access to all buckets via the AWS Management Console.",
		created:     awsDate("2015-02-06T18:40:59Z"), updated: awsDate("2023-08-10T21:31:39Z"),
		doc: `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*"
            ],
            "Resource": "*"
        }
    ]
}`,
	},
}

// AWSManagedPolicyARN is the ARN of the AWS managed policy with this name.
func AWSManagedPolicyARN(name string) string { return AWSManagedPrefix + name }

// EnsureAWSManagedPolicies creates the AWS managed policies iamd ships, or
// brings them up to date, keeping their attachment counts. It is
// idempotent; the server calls it at startup.
func (s *Service) EnsureAWSManagedPolicies(ctx context.Context) error {
	for _, ap := range awsPolicies {
		if err := parseDocument(ap.doc, policy.Identity); err != nil {
			return err
		}
	}
	return s.update(ctx, func(tx kv.Tx) error {
		for _, ap := range awsPolicies {
			a := AWSManagedPolicyARN(ap.name)
			mp, err := getJSON[ManagedPolicy](tx, tPolicies, a)
			switch {
			case errors.Is(err, kv.ErrNotFound):
				mp = &ManagedPolicy{}
			case err != nil:
				return err
			}
			want := ManagedPolicy{
				ID: ap.id, Name: ap.name, Path: "/", ARN: a, Description: ap.description,
				DefaultVersionID: ap.version, NextVersion: versionNumber(ap.version) + 1,
				AttachmentCount: mp.AttachmentCount, BoundaryUsage: mp.BoundaryUsage,
				IsAttachable: true, CreateDate: ap.created, UpdateDate: ap.updated, AWSManaged: true,
			}
			// Drop versions that are not the one shipped.
			old, err := scanKeys(tx, tPolicyVersions, a+"#")
			if err != nil {
				return err
			}
			for _, v := range old {
				if v != ap.version {
					if err := tx.Delete(tPolicyVersions, versionKey(a, v)); err != nil {
						return err
					}
				}
			}
			if err := putJSON(tx, tPolicies, a, &want); err != nil {
				return err
			}
			v := &PolicyVersion{PolicyARN: a, VersionID: ap.version, Document: ap.doc, IsDefault: true, CreateDate: ap.updated}
			if err := putJSON(tx, tPolicyVersions, versionKey(a, ap.version), v); err != nil {
				return err
			}
		}
		return nil
	})
}
