package pipeline

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/ankaflow/ankaflow/connectors"
)

// decodeConfig turns a (rendered) config mapping into a connection configuration.
func decodeConfig(raw map[string]any) (connectors.Config, error) {
	var c connectors.Config
	for _, section := range sortedKeys(raw) {
		m, ok := connectors.Plain(raw[section]).(map[string]any)
		if !ok {
			return c, fmt.Errorf("config.%s must be a mapping", section)
		}
		switch section {
		case "local", "s3", "gs", "az":
			b, err := decodeBucket(section, m)
			if err != nil {
				return c, err
			}
			switch section {
			case "local":
				c.Local = b
			case "s3":
				c.S3 = b
			case "gs":
				c.GS = b
			case "az":
				c.AZ = b
			}
		default:
			if c.Sections == nil {
				c.Sections = map[string]map[string]any{}
			}
			c.Sections[section] = m
		}
	}
	return c, nil
}

func decodeBucket(section string, m map[string]any) (connectors.BucketConfig, error) {
	var b connectors.BucketConfig
	str := func(k string) (string, error) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", nil
		}
		switch x := v.(type) {
		case string:
			return x, nil
		case int, int64, float64, bool:
			return fmt.Sprint(x), nil
		}
		return "", fmt.Errorf("config.%s.%s must be text", section, k)
	}
	var err error
	fields := map[string]*string{
		"bucket": &b.Bucket, "data_prefix": &b.DataPrefix, "region": &b.Region,
		"endpoint_url": &b.EndpointURL, "url_style": &b.URLStyle,
		"access_key_id": &b.AccessKeyID, "secret_access_key": &b.SecretAccessKey,
		"hmac_key": &b.HMACKey, "hmac_secret": &b.HMACSecret, "credential_file": &b.CredentialFile,
		"connection_string": &b.ConnectionString, "account_name": &b.AccountName, "account_key": &b.AccountKey,
	}
	for k, dst := range fields {
		if *dst, err = str(k); err != nil {
			return b, err
		}
	}
	for k := range m {
		if _, ok := fields[k]; !ok && k != "locator_wildcard" {
			return b, fmt.Errorf("unknown key %q in config.%s%s", k, section, connectors.DidYouMean(k, bucketKeys))
		}
	}
	if w, ok := m["locator_wildcard"]; ok && w != nil {
		list, ok := w.([]any)
		if !ok || len(list) != 2 {
			return b, fmt.Errorf("config.%s.locator_wildcard must be a list of two items: [regex, replacement]", section)
		}
		for _, x := range list {
			b.LocatorWildcard = append(b.LocatorWildcard, fmt.Sprint(x))
		}
	}
	return b, nil
}

// LoadConfigFile reads a run-wide connection configuration (`--config FILE`): the same shape as
// a connection's config block, e.g. `local: {bucket: /data, data_prefix: raw}`.
func LoadConfigFile(path string) (connectors.Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return connectors.Config{}, err
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return connectors.Config{}, fmt.Errorf("%s: %w", path, err)
	}
	c, err := decodeConfig(raw)
	if err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
