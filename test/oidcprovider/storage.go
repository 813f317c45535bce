package main

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// exampleLifetime is the example storage's access token lifetime.
const exampleLifetime = 5 * time.Minute

// testStorage is the example's in-memory storage with the changes the
// package comment lists.
type testStorage struct {
	*storage.Storage
	refreshClient string        // the client that may also refresh
	lifetime      time.Duration // access tokens' (0: the example's)
	codeLifetime  time.Duration // device codes' in storage (0: as announced)
	slowPolls     atomic.Int64
}

// GetClientByClientID adds the refresh grant to the refresh client.
func (s *testStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil || id != s.refreshClient {
		return c, err
	}
	return refreshingClient{c}, nil
}

type refreshingClient struct{ op.Client }

func (c refreshingClient) GrantTypes() []oidc.GrantType {
	return append(slices.Clone(c.Client.GrantTypes()), oidc.GrantTypeRefreshToken)
}

// CreateAccessToken (a device grant without offline_access) names the
// token's client, as the storage does for the code flow's, and shortens
// its life to -lifetime.
func (s *testStorage) CreateAccessToken(ctx context.Context, request op.TokenRequest) (string, time.Time, error) {
	if d, ok := request.(*op.DeviceAuthorizationState); ok {
		// the storage takes the client of an *AuthRequest (whose audience
		// is its client, as a device grant's is)
		request = &storage.AuthRequest{ApplicationID: d.ClientID, UserID: d.Subject, Scopes: d.Scopes}
	}
	id, exp, err := s.Storage.CreateAccessToken(ctx, request)
	return id, s.short(exp), err
}

// CreateAccessAndRefreshTokens (a device grant with offline_access, a
// refresh) names the client of a device grant's tokens, as the storage
// does for the code flow's, and shortens the access token's life.
func (s *testStorage) CreateAccessAndRefreshTokens(ctx context.Context, request op.TokenRequest, current string) (string, string, time.Time, error) {
	if d, ok := request.(*op.DeviceAuthorizationState); ok {
		request = &storage.RefreshTokenRequest{RefreshToken: &storage.RefreshToken{ApplicationID: d.ClientID, UserID: d.Subject,
			Audience: d.GetAudience(), Scopes: d.Scopes, AuthTime: d.AuthTime, AMR: d.AMR}}
	}
	id, refresh, exp, err := s.Storage.CreateAccessAndRefreshTokens(ctx, request, current)
	return id, refresh, s.short(exp), err
}

// SetIntrospectionFromToken answers inactive once the shortened life is
// over, and says when it ends.
func (s *testStorage) SetIntrospectionFromToken(ctx context.Context, in *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	if err := s.Storage.SetIntrospectionFromToken(ctx, in, tokenID, subject, clientID); err != nil {
		return err
	}
	exp := s.short(in.Expiration.AsTime())
	if !time.Now().Before(exp) {
		return errors.New("token is expired")
	}
	in.Expiration = oidc.FromTime(exp)
	return nil
}

// short is exp, an access token's expiry as the storage sets it
// (exampleLifetime from its creation), at -lifetime from its creation.
func (s *testStorage) short(exp time.Time) time.Time {
	if s.lifetime <= 0 || s.lifetime >= exampleLifetime || exp.IsZero() {
		return exp
	}
	return exp.Add(s.lifetime - exampleLifetime)
}

// StoreDeviceAuthorization keeps the code for -code-lifetime when set.
func (s *testStorage) StoreDeviceAuthorization(ctx context.Context, clientID, deviceCode, userCode string, expires time.Time, scopes []string) error {
	if s.codeLifetime > 0 {
		expires = time.Now().Add(s.codeLifetime)
	}
	return s.Storage.StoreDeviceAuthorization(ctx, clientID, deviceCode, userCode, expires, scopes)
}

// GetDeviceAuthorizatonState (zitadel's spelling) is slow for the first
// -slow-polls polls: it waits out the request's deadline, as a storage
// under load would, and zitadel answers slow_down.
func (s *testStorage) GetDeviceAuthorizatonState(ctx context.Context, clientID, deviceCode string) (*op.DeviceAuthorizationState, error) {
	if s.slowPolls.Add(-1) >= 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Storage.GetDeviceAuthorizatonState(ctx, clientID, deviceCode)
}
