"""hvtune as a KubeVirt validating admission webhook: the API server sends
each VirtualMachine and VirtualMachineInstance it is about to store as an
AdmissionReview; hvtune judges it as `hvtune check` does and answers
allowed, denied (it would not start, or not migrate) or allowed with
warnings (slow, at risk). ``admission`` reads reviews and writes responses,
``judging`` turns a VM object into that answer, ``server`` serves HTTPS."""
