// Package namespaces reads namespaces for the rules that depend on them: a
// request's staging namespace must have opted in. The admission webhook and
// the controller both ask it, so that they give the same answer with the same
// message; the rule itself is golivev1alpha1.StagingOptedIn.
package namespaces
