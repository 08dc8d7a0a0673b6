package convert

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func (c *conv) controlPlane() {
	n := &c.in.ClusterConfig
	s := &c.out.Spec
	if s.APIServer.ExtraArgs == nil {
		s.APIServer.ExtraArgs = map[string]string{}
	}
	if s.ControllerManager.ExtraArgs == nil {
		s.ControllerManager.ExtraArgs = map[string]string{}
	}
	if s.Scheduler.ExtraArgs == nil {
		s.Scheduler.ExtraArgs = map[string]string{}
	}
	if s.Network.KubeProxy.ExtraArgs == nil {
		s.Network.KubeProxy.ExtraArgs = map[string]string{}
	}

	if c.has(cc + "shared_sans") {
		if len(n.SharedSANs) == 0 {
			c.add(Entry{Key: cc + "shared_sans", Status: StatusDefault, Target: sp + "apiServer.sans", Reason: "empty list"})
		} else {
			c.set(cc+"shared_sans", "apiServer.sans", Inferred, func() { s.APIServer.SANs = append([]string(nil), n.SharedSANs...) })
		}
	}
	c.cipherArg(cc+"cipher_suites_for_kube_api_server", "apiServer", s.APIServer.ExtraArgs, n.CipherSuitesForKubeAPIServer)
	if c.has(cc + "kube_api_server_request_timeout") {
		if d, err := time.ParseDuration(n.KubeAPIServerRequestTimeout); err != nil || d <= 0 {
			c.mark(cc+"kube_api_server_request_timeout", StatusUnconvertible, fmt.Sprintf("%q is not a positive duration (like 1m)", n.KubeAPIServerRequestTimeout))
		} else {
			c.set(cc+"kube_api_server_request_timeout", "apiServer.requestTimeout", Inferred, func() { s.APIServer.RequestTimeout = d.String() })
		}
	}

	// Audit: MKE 3 has the file audit log switch and an audit level.
	au := &s.APIServer.Audit
	lvl := strings.ToLower(c.in.AuditLogConfiguration.Level)
	c.set(cc+"kube_api_server_auditing", "apiServer.audit.enabled", Inferred, func() { au.Enabled = n.KubeAPIServerAuditing || lvl != "" })
	if c.has("audit_log_configuration.level") {
		switch lvl {
		case "":
			c.add(Entry{Key: "audit_log_configuration.level", Status: StatusDefault, Target: sp + "apiServer.audit.level", Reason: "audit logging off in MKE 3; MKE 4k keeps its Metadata level for when audit is enabled"})
		case "metadata", "request":
			c.set("audit_log_configuration.level", "apiServer.audit.level", Inferred, func() {
				au.Enabled = true
				au.Level = map[string]string{"metadata": mke4.AuditLevelMetadata, "request": mke4.AuditLevelRequest}[lvl]
			})
		default:
			c.mark("audit_log_configuration.level", StatusUnconvertible, fmt.Sprintf("%q is not an MKE 3 audit level (\"\", metadata, request)", c.in.AuditLogConfiguration.Level))
		}
	}
	c.setInt(cc+"kube_api_server_audit_log_maxage", "apiServer.audit.maxAge", Checked, n.KubeAPIServerAuditLogMaxAge, 0, &au.MaxAge)
	c.setInt(cc+"kube_api_server_audit_log_maxbackup", "apiServer.audit.maxBackup", Inferred, n.KubeAPIServerAuditLogMaxBackup, 0, &au.MaxBackup)
	c.setInt(cc+"kube_api_server_audit_log_maxsize", "apiServer.audit.maxSize", Inferred, n.KubeAPIServerAuditLogMaxSize, 0, &au.MaxSize)
	if n.KubeAPIServerEnableCustomAuditPolicy {
		c.add0(cc+"kube_api_server_enable_custom_audit_policy", StatusConverted, "apiServer.audit.customPolicyYaml", "", Inferred)
		if strings.TrimSpace(n.KubeAPIServerCustomAuditPolicyYAML) == "" {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusUnconvertible, "custom audit policy enabled but empty")
		} else {
			c.set(cc+"kube_api_server_custom_audit_policy_yaml", "apiServer.audit.customPolicyYaml", Inferred, func() { au.CustomPolicyYAML = n.KubeAPIServerCustomAuditPolicyYAML })
		}
	} else {
		c.add0(cc+"kube_api_server_enable_custom_audit_policy", StatusDefault, "apiServer.audit.customPolicyYaml", "custom audit policy off: the default policy applies", Inferred)
		if n.KubeAPIServerCustomAuditPolicyYAML == "" {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusDefault, "empty")
		} else {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusDropped, "MKE 3 ignores this policy while kube_api_server_enable_custom_audit_policy is false; set spec.apiServer.audit.customPolicyYaml to use it")
		}
	}

	c.set(cc+"kube_api_server_profiling_enabled", "apiServer.profilingEnabled", Inferred, func() { s.APIServer.ProfilingEnabled = mke4.Ptr(n.KubeAPIServerProfilingEnabled) })
	c.set(cc+"kube_controller_manager_profiling_enabled", "controllerManager.profilingEnabled", Inferred, func() {
		s.ControllerManager.ProfilingEnabled = mke4.Ptr(n.KubeControllerManagerProfilingEnabled)
	})
	c.set(cc+"kube_scheduler_profiling_enabled", "scheduler.profilingEnabled", Checked, func() { s.Scheduler.ProfilingEnabled = mke4.Ptr(n.KubeSchedulerProfilingEnabled) })
	c.set(cc+"kube_scheduler_bind_to_all", "scheduler.bindToAll", Inferred, func() { s.Scheduler.BindToAll = mke4.Ptr(n.KubeSchedulerBindToAll) })
	c.set(cc+"kube_manager_terminated_pod_gc_threshold", "controllerManager.terminatedPodGCThreshold", Inferred, func() {
		s.ControllerManager.TerminatedPodGCThreshold = n.KubeManagerTerminatedPodGCThreshold
	})
	c.set(cc+"k8s_event_rate_limit.event_rate_limit_ac_enabled", "apiServer.eventRateLimit.enabled", Inferred, func() {
		s.APIServer.EventRateLimit.Enabled = n.K8sEventRateLimit.EventRateLimitACEnabled
	})
	c.setString(cc+"etcd_storage_quota", "etcd.storageQuota", n.EtcdStorageQuota, &s.Etcd.StorageQuota)
	if c.has(cc + "cipher_suites_for_etcd_server") {
		c.setString(cc+"cipher_suites_for_etcd_server", "etcd.tlsCipherSuites", strings.Join(splitList(n.CipherSuitesForEtcdServer), ","), &s.Etcd.TLSCipherSuites)
	}
	if c.has(cc + "cluster_name") {
		if n.ClusterName == "" || n.ClusterName == "kubernetes" {
			c.add(Entry{Key: cc + "cluster_name", Status: StatusDefault, Target: sp + "controllerManager.extraArgs.cluster-name", Reason: "kube-controller-manager's default cluster name is \"kubernetes\""})
		} else {
			c.setArg(cc+"cluster_name", "controllerManager", s.ControllerManager.ExtraArgs, "cluster-name", n.ClusterName, Inferred)
		}
	}
	c.cloud()
	if c.has(cc + "kms_enabled") {
		if n.KMSEnabled {
			c.mark(cc+"kms_enabled", StatusUnconvertible, "KMS encryption: write an EncryptionConfiguration with a kms provider on every manager and point spec.apiServer.encryptionProvider at it; MkeConfig cannot carry KMS settings")
		} else {
			c.add(Entry{Key: cc + "kms_enabled", Status: StatusDefault, Target: sp + "apiServer.encryptionProvider", Reason: "KMS off: MKE 4k's default encryption provider file applies"})
		}
	}

	c.flagList(cc+"custom_kube_api_server_flags", "apiServer", n.CustomKubeAPIServerFlags, s.APIServer.ExtraArgs)
	c.flagList(cc+"custom_kube_controller_manager_flags", "controllerManager", n.CustomKubeControllerManagerFlags, s.ControllerManager.ExtraArgs)
	c.flagList(cc+"custom_kube_scheduler_flags", "scheduler", n.CustomKubeSchedulerFlags, s.Scheduler.ExtraArgs)
	c.flagList(cc+"custom_kube_proxy_flags", "network.kubeProxy", n.CustomKubeProxyFlags, s.Network.KubeProxy.ExtraArgs)

	// AlwaysPullImages joins whatever admission plugins the flags enabled.
	if c.has(cc + "k8s_always_pull_images_ac_enabled") {
		if n.K8sAlwaysPullImagesACEnabled {
			c.set(cc+"k8s_always_pull_images_ac_enabled", "apiServer.extraArgs.enable-admission-plugins", Inferred, func() {
				cur := splitList(s.APIServer.ExtraArgs["enable-admission-plugins"])
				if !slices.Contains(cur, "AlwaysPullImages") {
					cur = append(cur, "AlwaysPullImages")
				}
				s.APIServer.ExtraArgs["enable-admission-plugins"] = strings.Join(cur, ",")
			})
		} else {
			c.add(Entry{Key: cc + "k8s_always_pull_images_ac_enabled", Status: StatusDefault, Target: sp + "apiServer.extraArgs.enable-admission-plugins", Reason: "admission plugin off, as in MKE 4k"})
		}
	}
	for _, m := range []*map[string]string{&s.APIServer.ExtraArgs, &s.ControllerManager.ExtraArgs, &s.Scheduler.ExtraArgs, &s.Network.KubeProxy.ExtraArgs, &s.Kubelet.ExtraArgs} {
		if len(*m) == 0 {
			*m = nil
		}
	}
}

func (c *conv) cloud() {
	const k = cc + "cloud_provider"
	if !c.has(k) {
		return
	}
	cp := &c.out.Spec.CloudProvider
	switch p := c.in.ClusterConfig.CloudProvider; p {
	case "":
		c.add(Entry{Key: k, Status: StatusDefault, Target: sp + "cloudProvider", Reason: "no cloud provider, as in MKE 4k's default"})
	case "aws", "external":
		c.set(k, "cloudProvider", Inferred, func() { cp.Enabled, cp.Provider = true, p })
	default:
		c.mark(k, StatusUnconvertible, fmt.Sprintf("cloud provider %q: MKE 4k supports aws and external (run the provider's cloud-controller-manager with external)", p))
	}
}
