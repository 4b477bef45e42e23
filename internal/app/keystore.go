package app

import (
	"context"
	"encoding/json"

	"github.com/iamd/iamd/internal/kv"
	"github.com/iamd/iamd/internal/token"
)

// tSealingKeys holds the token ring's wrapped keys.
const tSealingKeys = "token.sealing_keys"

// kvKeyStore stores the token ring's wrapped keys in the kv store.
type kvKeyStore struct{ kv kv.Store }

func (k kvKeyStore) LoadSealingKeys(ctx context.Context) ([]token.WrappedKey, error) {
	var out []token.WrappedKey
	err := k.kv.View(ctx, func(tx kv.Tx) error {
		return tx.Scan(tSealingKeys, "", "", 0, func(_ string, b []byte) error {
			var w token.WrappedKey
			if err := json.Unmarshal(b, &w); err != nil {
				return err
			}
			out = append(out, w)
			return nil
		})
	})
	return out, err
}

func (k kvKeyStore) SaveSealingKey(ctx context.Context, w token.WrappedKey) error {
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	return k.kv.Update(ctx, func(tx kv.Tx) error { return tx.Put(tSealingKeys, w.ID, b) })
}

func (k kvKeyStore) DeleteSealingKey(ctx context.Context, id string) error {
	return k.kv.Update(ctx, func(tx kv.Tx) error { return tx.Delete(tSealingKeys, id) })
}
