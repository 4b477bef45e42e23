package ec2

import (
	"context"
	"errors"
	"strings"

	"github.com/iamd/iamd/internal/apierr"
	"github.com/iamd/iamd/internal/kv"
)

// IAM instance profile associations. An instance has at most one; while it
// is associated the instance's metadata endpoint serves that profile's
// role. Transitions are immediate: the returned association says
// "associating" or "disassociating" as EC2's responses do, the stored one
// is already "associated" or gone.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html#attach-iam-role

func noAssociation(id string) error {
	return apierr.New(InvalidAssociationIDNotFound, "The association ID '%s' does not exist", id)
}

// AssociateIamInstanceProfile associates a profile with an instance that
// has none.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html
func (s *Service) AssociateIamInstanceProfile(ctx context.Context, instanceID string, p *Profile) (*Association, error) {
	if err := CheckInstanceID(instanceID); err != nil {
		return nil, err
	}
	a := &Association{
		ID: s.newID("iip-assoc-"), InstanceID: instanceID, ProfileARN: p.Profile.ARN,
		ProfileID: p.Profile.ID, State: "associated", Timestamp: s.now().UTC().Truncate(1e9),
	}
	err := s.update(ctx, func(tx kv.Tx) error {
		in, err := getInstance(tx, instanceID)
		if err != nil {
			return err
		}
		if in.State == Terminated || in.State == ShuttingDown {
			return apierr.New(IncorrectInstanceState, "The instance '%s' is not in a valid state for this operation.", instanceID)
		}
		if in.Association != nil {
			return apierr.New(IncorrectState, "There is an existing association for instance %s", instanceID)
		}
		in.Association = a
		if err := putInstance(tx, in); err != nil {
			return err
		}
		return tx.Put(tAssociations, a.ID, []byte(instanceID))
	})
	if err != nil {
		return nil, err
	}
	s.creds.forget(instanceID)
	out := *a
	out.State = "associating"
	return &out, nil
}

// instanceOf finds the instance holding an association.
func instanceOf(tx kv.Tx, assocID string) (*Instance, error) {
	b, err := tx.Get(tAssociations, assocID)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, noAssociation(assocID)
	}
	if err != nil {
		return nil, err
	}
	in, err := getInstance(tx, string(b))
	if err != nil {
		return nil, err
	}
	if in.Association == nil || in.Association.ID != assocID {
		return nil, noAssociation(assocID)
	}
	return in, nil
}

// CheckAssociationID rejects ids not shaped like "iip-assoc-…".
func CheckAssociationID(id string) error {
	if !strings.HasPrefix(id, "iip-assoc-") {
		return apierr.New(InvalidParameterValue, "Value (%s) for parameter associationId is invalid. Expected: 'iip-assoc-...'.", id)
	}
	return nil
}

// AssociationInstance returns the instance an association belongs to.
func (s *Service) AssociationInstance(ctx context.Context, assocID string) (*Instance, error) {
	if err := CheckAssociationID(assocID); err != nil {
		return nil, err
	}
	var in *Instance
	err := s.view(ctx, func(tx kv.Tx) error {
		var err error
		in, err = instanceOf(tx, assocID)
		return err
	})
	return in, err
}

// DisassociateIamInstanceProfile ends an association: the instance's
// metadata endpoint serves no credentials from now on.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateIamInstanceProfile.html
func (s *Service) DisassociateIamInstanceProfile(ctx context.Context, assocID string) (*Association, error) {
	if err := CheckAssociationID(assocID); err != nil {
		return nil, err
	}
	var old Association
	err := s.update(ctx, func(tx kv.Tx) error {
		in, err := instanceOf(tx, assocID)
		if err != nil {
			return err
		}
		old = *in.Association
		in.Association = nil
		if err := putInstance(tx, in); err != nil {
			return err
		}
		return tx.Delete(tAssociations, assocID)
	})
	if err != nil {
		return nil, err
	}
	s.creds.forget(old.InstanceID)
	old.State = "disassociating"
	return &old, nil
}

// ReplaceIamInstanceProfileAssociation swaps an association's profile for
// another, under a new association id; the endpoint serves the new
// profile's role at once.
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ReplaceIamInstanceProfileAssociation.html
func (s *Service) ReplaceIamInstanceProfileAssociation(ctx context.Context, assocID string, p *Profile) (*Association, error) {
	if err := CheckAssociationID(assocID); err != nil {
		return nil, err
	}
	var a *Association
	err := s.update(ctx, func(tx kv.Tx) error {
		in, err := instanceOf(tx, assocID)
		if err != nil {
			return err
		}
		a = &Association{
			ID: s.newID("iip-assoc-"), InstanceID: in.ID, ProfileARN: p.Profile.ARN,
			ProfileID: p.Profile.ID, State: "associated", Timestamp: s.now().UTC().Truncate(1e9),
		}
		in.Association = a
		if err := putInstance(tx, in); err != nil {
			return err
		}
		if err := tx.Delete(tAssociations, assocID); err != nil {
			return err
		}
		return tx.Put(tAssociations, a.ID, []byte(in.ID))
	})
	if err != nil {
		return nil, err
	}
	s.creds.forget(a.InstanceID)
	out := *a
	out.State = "associating"
	return &out, nil
}

// DescribeAssociations lists current associations, by id or all, passing
// the filters (instance-id, state).
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeIamInstanceProfileAssociations.html
func (s *Service) DescribeAssociations(ctx context.Context, ids []string, filters []Filter) ([]*Association, error) {
	for _, f := range filters {
		if f.Name != "instance-id" && f.Name != "state" {
			return nil, apierr.New(InvalidParameterValue, "The filter '%s' is invalid", f.Name)
		}
	}
	var out []*Association
	err := s.view(ctx, func(tx kv.Tx) error {
		if len(ids) > 0 {
			for _, id := range ids {
				if err := CheckAssociationID(id); err != nil {
					return err
				}
				in, err := instanceOf(tx, id)
				if err != nil {
					return err
				}
				out = append(out, in.Association)
			}
			return nil
		}
		return tx.Scan(tInstances, "", "", 0, func(k string, _ []byte) error {
			in, err := getInstance(tx, k)
			if err != nil {
				return err
			}
			if in.Association != nil {
				out = append(out, in.Association)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, a := range out {
		ok := true
		for _, f := range filters {
			have := a.InstanceID
			if f.Name == "state" {
				have = a.State
			}
			hit := false
			for _, v := range f.Values {
				hit = hit || wildcard(v, have)
			}
			ok = ok && hit
		}
		if ok {
			kept = append(kept, a)
		}
	}
	return kept, nil
}
