package objstore

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Options configure one store; zero fields fall back to the cloud's standard chain (environment
// variables, then profile files, then the machine's role). They come from the connection's
// config (s3: / gs: sections) and are never printed: String() leaves the secrets out.
type Options struct {
	Region          string
	EndpointURL     string // S3-compatible stores (MinIO, Ceph, R2, a test server): http(s)://host:port
	URLStyle        string // "path", "vhost" (virtual-host) or "" (the client decides)
	AccessKeyID     string
	SecretAccessKey string
	HMACKey         string // gs: HMAC key of a service account (GCS's S3-compatible XML API)
	HMACSecret      string
	CredentialFile  string // gs: a service-account JSON file
	// az (config.az): a storage connection string, or an account and its key; EndpointURL is
	// then the blob service endpoint (an emulator: http://127.0.0.1:10000/devstoreaccount1).
	ConnectionString string
	AccountName      string
	AccountKey       string
	// Transport replaces the HTTP transport (proxies, custom TLS, tests).
	Transport http.RoundTripper
	// Getenv reads the environment (nil: os.Getenv); tests pass their own.
	Getenv func(string) string
}

func (o Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

// Credentials are the credentials chosen for a store and where they came from.
type Credentials struct {
	// Source tells where they came from, for messages ("connection config", "environment
	// (AWS_ACCESS_KEY_ID)", "profile \"dev\" in /home/u/.aws/credentials", "anonymous"…).
	Source string
	// AccessKeyID is shown in messages (it is an identifier, not a secret).
	AccessKeyID string
	creds       *credentials.Credentials
	// azure
	account, accountKey, blobEndpoint string
	// gs: without an HMAC key, Cloud Storage's JSON API (gcs.go)
	gcs *gcsAuth
	sas string // a shared access signature (query string), secret
}

// SelectCredentials picks the credentials of scheme ("s3", "gs", "az") in the cloud's standard
// order: the connection's config first, then the environment, then profile files, then (S3)
// the machine's instance role.
func SelectCredentials(scheme string, o Options) (Credentials, error) {
	switch scheme {
	case "s3":
		return s3Credentials(o)
	case "gs":
		return gsCredentials(o)
	case "az":
		return azCredentials(o)
	}
	return Credentials{}, fmt.Errorf("unknown object store %q", scheme)
}

func s3Credentials(o Options) (Credentials, error) {
	if o.AccessKeyID != "" || o.SecretAccessKey != "" {
		if o.AccessKeyID == "" || o.SecretAccessKey == "" {
			return Credentials{}, fmt.Errorf("config.s3 sets only one of access_key_id and secret_access_key: set both, or neither to use the environment or ~/.aws/credentials")
		}
		return Credentials{Source: "connection config (s3.access_key_id)", AccessKeyID: o.AccessKeyID,
			creds: credentials.NewStaticV4(o.AccessKeyID, o.SecretAccessKey, "")}, nil
	}
	if id, secret := o.getenv("AWS_ACCESS_KEY_ID"), o.getenv("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return Credentials{}, fmt.Errorf("only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set in the environment: set both")
		}
		return Credentials{Source: "environment (AWS_ACCESS_KEY_ID)", AccessKeyID: id,
			creds: credentials.NewStaticV4(id, secret, o.getenv("AWS_SESSION_TOKEN"))}, nil
	}
	profile := o.getenv("AWS_PROFILE")
	if profile == "" {
		profile = "default"
	}
	file := o.getenv("AWS_SHARED_CREDENTIALS_FILE")
	if file == "" {
		if home := o.getenv("HOME"); home != "" {
			file = filepath.Join(home, ".aws", "credentials")
		}
	}
	if file != "" {
		if _, err := os.Stat(file); err == nil {
			fc := credentials.NewFileAWSCredentials(file, profile)
			v, err := fc.Get()
			if err != nil || v.AccessKeyID == "" {
				return Credentials{}, fmt.Errorf("profile %q in %s has no usable aws_access_key_id/aws_secret_access_key: check AWS_PROFILE and the file", profile, file)
			}
			return Credentials{Source: fmt.Sprintf("profile %q in %s", profile, file), AccessKeyID: v.AccessKeyID, creds: fc}, nil
		}
	}
	if !strings.EqualFold(o.getenv("AWS_EC2_METADATA_DISABLED"), "true") {
		return Credentials{Source: "instance role (EC2/ECS metadata service)", creds: credentials.NewIAM("")}, nil
	}
	return Credentials{Source: "anonymous (no credentials found)", creds: credentials.NewStaticV4("", "", "")}, nil
}

func gsCredentials(o Options) (Credentials, error) {
	if o.HMACKey != "" || o.HMACSecret != "" {
		if o.HMACKey == "" || o.HMACSecret == "" {
			return Credentials{}, fmt.Errorf("config.gs sets only one of hmac_key and hmac_secret: set both")
		}
		return Credentials{Source: "connection config (gs.hmac_key)", AccessKeyID: o.HMACKey,
			creds: credentials.NewStaticV4(o.HMACKey, o.HMACSecret, "")}, nil
	}
	return gcsCredentials(o)
}

func azCredentials(o Options) (Credentials, error) {
	c, err := azAccount(o)
	if err != nil {
		return c, err
	}
	if o.EndpointURL != "" {
		c.blobEndpoint = o.EndpointURL
	}
	c.blobEndpoint = strings.TrimRight(c.blobEndpoint, "/")
	c.AccessKeyID = c.account
	return c, nil
}

// azAccount picks the account and its key (or SAS) in Azure's usual order: the connection's
// config.az (connection_string, then account_name + account_key), then the environment
// (AZURE_STORAGE_CONNECTION_STRING, then AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY).
func azAccount(o Options) (Credentials, error) {
	if o.ConnectionString != "" {
		return azConnectionString(o.ConnectionString, "connection config (az.connection_string)", "config.az.connection_string")
	}
	if o.AccountName != "" || o.AccountKey != "" {
		if o.AccountName == "" {
			return Credentials{}, fmt.Errorf("config.az sets account_key but no account_name: set both")
		}
		src := "connection config (az.account_name, az.account_key)"
		if o.AccountKey == "" {
			src = "connection config (az.account_name, anonymous)"
		}
		return Credentials{Source: src, account: o.AccountName, accountKey: o.AccountKey,
			blobEndpoint: "https://" + o.AccountName + ".blob.core.windows.net"}, nil
	}
	if cs := o.getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		return azConnectionString(cs, "environment (AZURE_STORAGE_CONNECTION_STRING)", "AZURE_STORAGE_CONNECTION_STRING")
	}
	account := o.getenv("AZURE_STORAGE_ACCOUNT")
	key := o.getenv("AZURE_STORAGE_KEY")
	if key == "" {
		key = o.getenv("AZURE_STORAGE_ACCESS_KEY")
	}
	if account == "" {
		return Credentials{}, fmt.Errorf("az://: no Azure credentials: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or config.az.connection_string, or account_name and account_key)")
	}
	src := "environment (AZURE_STORAGE_ACCOUNT, AZURE_STORAGE_KEY)"
	if key == "" {
		src = "environment (AZURE_STORAGE_ACCOUNT, anonymous)"
	}
	return Credentials{Source: src, account: account, accountKey: key,
		blobEndpoint: "https://" + account + ".blob.core.windows.net"}, nil
}

// Azurite's (and the old storage emulator's) well-known development account, which
// `UseDevelopmentStorage=true` names; its key is public, not a secret.
const (
	devAccount  = "devstoreaccount1"
	devKey      = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	devEndpoint = "http://127.0.0.1:10000/" + devAccount
)

// azConnectionString reads a storage connection string: AccountName + AccountKey (or a
// SharedAccessSignature), with BlobEndpoint or DefaultEndpointsProtocol + EndpointSuffix, or
// UseDevelopmentStorage=true. what names it in messages, which never quote its value.
func azConnectionString(cs, source, what string) (Credentials, error) {
	kv := map[string]string{}
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			kv[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if strings.EqualFold(kv["usedevelopmentstorage"], "true") {
		return Credentials{Source: source, account: devAccount, accountKey: devKey, blobEndpoint: devEndpoint}, nil
	}
	c := Credentials{Source: source, account: kv["accountname"], accountKey: kv["accountkey"],
		sas: strings.TrimPrefix(kv["sharedaccesssignature"], "?"), blobEndpoint: kv["blobendpoint"]}
	if c.account == "" && c.blobEndpoint == "" {
		return Credentials{}, fmt.Errorf("%s has no AccountName (or BlobEndpoint): check its value", what)
	}
	if c.accountKey != "" && c.account == "" {
		return Credentials{}, fmt.Errorf("%s has an AccountKey but no AccountName: check its value", what)
	}
	if c.blobEndpoint == "" {
		proto, suffix := kv["defaultendpointsprotocol"], kv["endpointsuffix"]
		if proto == "" {
			proto = "https"
		}
		if suffix == "" {
			suffix = "core.windows.net"
		}
		c.blobEndpoint = proto + "://" + c.account + ".blob." + suffix
	}
	return c, nil
}
