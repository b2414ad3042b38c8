"""The official Python `kubernetes` client against `berth up` (path to kubeconfig in argv[1])."""
import sys
import threading

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException


def main(kubeconfig: str) -> None:
    config.load_kube_config(config_file=kubeconfig)
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    names = [ns.metadata.name for ns in core.list_namespace().items]
    assert {"default", "kube-system", "kube-public"} <= set(names), names

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
    cm = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cfg", labels={"app": "py"}), data={"k": "v"})
    created = core.create_namespaced_config_map("py", cm)
    assert created.metadata.resource_version

    # Watch from the create's resourceVersion in a thread, then change the object.
    seen = []
    w = watch.Watch()

    def run():
        for ev in w.stream(core.list_namespaced_config_map, "py",
                           resource_version=created.metadata.resource_version, timeout_seconds=10):
            seen.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=run)
    t.start()
    import time
    time.sleep(1)
    core.patch_namespaced_config_map("cfg", "py", {"data": {"k": "v2"}})
    core.delete_namespaced_config_map("cfg", "py")
    t.join(15)
    assert ("MODIFIED", "cfg") in seen and ("DELETED", "cfg") in seen, seen

    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="api"),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "api"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "api"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="api", image="python:3.11",
                                                                     command=["python3", "-m", "http.server"])]),
            ),
        ),
    )
    d = apps.create_namespaced_deployment("py", dep)
    assert d.spec.replicas == 1 and d.spec.strategy.type == "RollingUpdate"
    scale = apps.patch_namespaced_deployment_scale("api", "py", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert apps.read_namespaced_deployment("api", "py").spec.replicas == 3

    try:
        core.read_namespaced_config_map("missing", "py")
        raise AssertionError("expected 404")
    except ApiException as e:
        assert e.status == 404, e.status

    print("python client: ok")


if __name__ == "__main__":
    main(sys.argv[1])
