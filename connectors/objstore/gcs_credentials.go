package objstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/api/option"
)

// gcsAuth is how a gs:// store without an HMAC key authenticates to the JSON API.
type gcsAuth struct {
	opts []option.ClientOption
}

// gcsCredentials is Google's application-default chain: an emulator (STORAGE_EMULATOR_HOST)
// without authentication, then config.gs.credential_file, GOOGLE_APPLICATION_CREDENTIALS,
// gcloud's application_default_credentials.json, then, with an endpoint_url and nothing found,
// anonymous, else the metadata server of the machine.
func gcsCredentials(o Options) (Credentials, error) {
	if o.getenv("STORAGE_EMULATOR_HOST") != "" {
		// Google's client library reads the variable itself and then never authenticates.
		return Credentials{Source: "emulator (STORAGE_EMULATOR_HOST, no authentication)",
			gcs: &gcsAuth{opts: []option.ClientOption{option.WithoutAuthentication()}}}, nil
	}
	if o.CredentialFile != "" {
		return gcsKeyFile(o.CredentialFile, "config.gs.credential_file")
	}
	if f := o.getenv("GOOGLE_APPLICATION_CREDENTIALS"); f != "" {
		return gcsKeyFile(f, "GOOGLE_APPLICATION_CREDENTIALS")
	}
	dir := o.getenv("CLOUDSDK_CONFIG")
	if dir == "" {
		if home := o.getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".config", "gcloud")
		}
	}
	if dir != "" {
		adc := filepath.Join(dir, "application_default_credentials.json")
		if _, err := os.Stat(adc); err == nil {
			return gcsKeyFile(adc, "application default credentials")
		}
	}
	if o.EndpointURL != "" {
		return Credentials{Source: "anonymous (no credentials found; endpoint_url is set)",
			gcs: &gcsAuth{opts: []option.ClientOption{option.WithoutAuthentication()}}}, nil
	}
	// The library's own chain ends at the metadata server (Compute Engine, GKE, Cloud Run).
	return Credentials{Source: "the metadata server (the machine's service account)", gcs: &gcsAuth{}}, nil
}

// gcsCredentialTypes are the JSON credential files the chain accepts (Google's "type" field).
var gcsCredentialTypes = map[string]option.CredentialsType{
	"service_account":              option.ServiceAccount,
	"authorized_user":              option.AuthorizedUser,
	"impersonated_service_account": option.ImpersonatedServiceAccount,
	"external_account":             option.ExternalAccount,
}

// gcsKeyFile reads a JSON credentials file. Its type is checked here (the libraries want it
// named), and the account's email is kept for messages: it identifies, it is not a secret.
func gcsKeyFile(file, from string) (Credentials, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Credentials{}, fmt.Errorf("gs://: cannot read the credentials file %s (from %s): %v", file, from, err)
	}
	var head struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		ClientID    string `json:"client_id"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Credentials{}, fmt.Errorf("gs://: the credentials file %s (from %s) is not JSON: use a service-account key file (IAM → Service accounts → Keys → JSON)", file, from)
	}
	t, ok := gcsCredentialTypes[head.Type]
	if !ok {
		return Credentials{}, fmt.Errorf("gs://: the credentials file %s (from %s) has type %q: use a service-account key (type service_account) or gcloud's application default credentials", file, from, head.Type)
	}
	if t == option.ServiceAccount && (head.ClientEmail == "" || head.PrivateKey == "") {
		return Credentials{}, fmt.Errorf("gs://: the service-account key file %s (from %s) has no client_email or private_key: download a new JSON key", file, from)
	}
	src := fmt.Sprintf("%s (%s)", from, file)
	if from == "application default credentials" {
		src = "application default credentials (" + file + ")"
	}
	return Credentials{Source: src, AccessKeyID: head.ClientEmail,
		gcs: &gcsAuth{opts: []option.ClientOption{option.WithAuthCredentialsJSON(t, data)}}}, nil
}
