"""Named landmark groups of MediaPipe's 468-point face mesh."""

import numpy as np

NOSE_TIP = 1
RIGHT_EYE = (33, 133)        # outer, inner corner (subject's right, image left)
LEFT_EYE = (362, 263)        # inner, outer corner
MOUTH_CORNERS = (61, 291)
UPPER_LIP, LOWER_LIP = 13, 14
CHIN = 152
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191)
LIPS = LIPS_OUTER + LIPS_INNER
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
EYEBROWS = (70, 63, 105, 66, 107, 336, 296, 334, 293, 300)


def anchor_points(landmarks: np.ndarray) -> np.ndarray:
    """(4, 2): right-eye centre, left-eye centre, nose tip, mouth centre: the points crops are aligned on."""
    xy = landmarks[:, :2]
    return np.stack([xy[list(RIGHT_EYE)].mean(0), xy[list(LEFT_EYE)].mean(0), xy[NOSE_TIP],
                     xy[[MOUTH_CORNERS[0], MOUTH_CORNERS[1], UPPER_LIP, LOWER_LIP]].mean(0)])


def mouth_centre(landmarks: np.ndarray) -> np.ndarray:
    """(2,) the centre of the mouth: mean of the corners and the inner lip midpoints."""
    return anchor_points(landmarks)[3]
