package report

import (
	"slices"

	"github.com/layerscan/layerscan/pkg/sanitize"
)

// MapStrings replaces every string of im that the image supplied — its
// reference, layer and history text, paths, archive members, config
// fields, notes, package names, warning and error messages — with f of it.
// The secret is not among them (it is redacted or shown as asked when the
// finding is made); rule ids, severities, causes and digests are
// layerscan's own. pkg/scan redacts a report through it, the writers
// sanitise a copy (Sanitized).
func (im *Image) MapStrings(f func(string) string) {
	im.Ref, im.Source = f(im.Ref), f(im.Source)
	for i := range im.Layers {
		l := &im.Layers[i]
		l.CreatedBy, l.Instruction = f(l.CreatedBy), f(l.Instruction)
	}
	for i := range im.Findings {
		fd := &im.Findings[i]
		fd.Path, fd.Field, fd.HardlinkTo, fd.Note = f(fd.Path), f(fd.Field), f(fd.HardlinkTo), f(fd.Note)
		fd.Layer.CreatedBy, fd.Layer.Instruction = f(fd.Layer.CreatedBy), f(fd.Layer.Instruction)
		for j := range fd.ArchivePath {
			fd.ArchivePath[j] = f(fd.ArchivePath[j])
		}
		if fd.RemovedBy != nil {
			fd.RemovedBy.Instruction = f(fd.RemovedBy.Instruction)
		}
		if fd.Origin != nil {
			fd.Origin.Name, fd.Origin.Version = f(fd.Origin.Name), f(fd.Origin.Version)
		}
	}
	for _, ps := range [][]Problem{im.Errors, im.Warnings} {
		for i := range ps {
			ps[i].Path, ps[i].Message = f(ps[i].Path), f(ps[i].Message)
		}
	}
	for i := range im.Vendor {
		im.Vendor[i].Name, im.Vendor[i].Version = f(im.Vendor[i].Name), f(im.Vendor[i].Version)
	}
	if im.Base != nil {
		im.Base.Name = f(im.Base.Name)
	}
}

// clone copies im deep enough that MapStrings on the copy leaves im as
// it is.
func (im *Image) clone() *Image {
	c := *im
	c.Layers = slices.Clone(im.Layers)
	c.Findings = slices.Clone(im.Findings)
	for i := range c.Findings {
		fd := &c.Findings[i]
		fd.ArchivePath = slices.Clone(fd.ArchivePath)
		if fd.RemovedBy != nil {
			r := *fd.RemovedBy
			fd.RemovedBy = &r
		}
		if fd.Origin != nil {
			o := *fd.Origin
			fd.Origin = &o
		}
	}
	c.Errors = slices.Clone(im.Errors)
	c.Warnings = slices.Clone(im.Warnings)
	c.Vendor = slices.Clone(im.Vendor)
	if im.Base != nil {
		b := *im.Base
		c.Base = &b
	}
	return &c
}

// Sanitized is a copy of r whose image-supplied strings, and the
// secrets (which --show-secrets prints as they are), are sanitize.Text'd:
// what the writers for people print.
func Sanitized(r *Report) *Report {
	c := *r
	c.Images = make([]*Image, len(r.Images))
	for i, im := range r.Images {
		c.Images[i] = sanitizedImage(im)
	}
	return &c
}

// sanitizedImage is the copy of im the writers for people print.
func sanitizedImage(im *Image) *Image {
	ci := im.clone()
	for j := range ci.Findings {
		// The command quotes the exact path; it is inert as it is.
		ci.Findings[j].evidence = im.Evidence(im.Findings[j])
	}
	ci.MapStrings(sanitize.Text)
	for j := range ci.Findings {
		ci.Findings[j].Secret = sanitize.Text(ci.Findings[j].Secret)
	}
	return ci
}
