"""What `OPTIONS` on an API route answers: the view's name, description and media types.

DRF's default also describes the request fields of POST and PUT from the view's
`serializer_class`, and crashes (500) on the many views that read their body by hand and have
none. The OpenAPI schema (/api/schema) is where the fields are described, for every view."""

from rest_framework.metadata import BaseMetadata


class ViewMetadata(BaseMetadata):
    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": "/api/schema",
        }
